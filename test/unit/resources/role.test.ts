import assert from 'node:assert/strict'
import { describe } from 'node:test'
import type { Role } from '../../../lib/resources/types.ts'
import { type Case, doc, runCases } from './cases.ts'

const role = (spec: unknown, metadata?: object) => doc('role', spec, metadata)
const allow = (conditions: unknown) => role({ allow: conditions })

const EMPTY = {
  logins: [],
  node_labels: {},
  db_labels: {},
  db_names: [],
  db_users: [],
  kubernetes_labels: {},
  kubernetes_groups: [],
  kubernetes_users: [],
  app_labels: {},
  aws_role_arns: [],
  spiffe: [],
  rules: [],
  impersonate: { roles: [] },
}

describe('Schema: role', () => {
  runCases([
    {
      name: 'ok/empty spec gets every condition, empty',
      doc: role({}),
      check: (r) => assert.deepEqual((r as Role).spec, { allow: EMPTY, deny: EMPTY, options: {} }),
    },
    {
      name: 'ok/the guide role machine-id-db',
      doc: allow({
        db_labels: { '*': '*' },
        db_names: ['example'],
        db_users: ['alice'],
        rules: [{ resources: ['db_server', 'db'], verbs: ['read', 'list'] }],
      }),
      check: (r) => {
        const spec = (r as Role).spec
        assert.deepEqual(spec.allow.db_labels, { '*': ['*'] })
        assert.deepEqual(spec.allow.rules, [{ resources: ['db_server', 'db'], verbs: ['read', 'list'] }])
      },
    },
    {
      name: 'ok/selector values: string or list, normalised to lists, keys sorted',
      doc: allow({ node_labels: { zone: ['a*', 'b'], env: 'dev', '*': '*' } }),
      check: (r) => {
        const labels = (r as Role).spec.allow.node_labels
        assert.deepEqual(labels, { '*': ['*'], env: ['dev'], zone: ['a*', 'b'] })
        assert.deepEqual(Object.keys(labels), ['*', 'env', 'zone'])
      },
    },
    {
      name: 'ok/prefixed label keys and dots in globs',
      doc: allow({ kubernetes_labels: { 'example.com/team': 'db.*' } }),
    },
    {
      name: 'ok/options and deny',
      doc: role({ deny: { logins: ['root'] }, options: { max_session_ttl: '1h30m' } }),
      check: (r) => {
        assert.equal((r as Role).spec.options.max_session_ttl, '1h30m')
        assert.deepEqual((r as Role).spec.deny.logins, ['root'])
      },
    },
    {
      name: 'ok/aws role arns, impersonation, k8s principals',
      doc: allow({
        aws_role_arns: ['arn:aws:iam::123456789012:role/path/reader'],
        impersonate: { roles: ['access'] },
        kubernetes_groups: ['system:masters'],
        kubernetes_users: ['*'],
      }),
    },
    // unknown fields, at every level
    {
      name: 'fail/unknown top-level field',
      doc: { ...role({}), extra: 1 },
      field: 'extra',
      message: /unknown field "extra"/,
    },
    { name: 'fail/status on a role', doc: { ...role({}), status: {} }, field: 'status' },
    {
      name: 'fail/unknown field in metadata',
      doc: role({}, { name: 'x', labls: {} }),
      field: 'metadata.labls',
      message: /unknown field "labls" \(did you mean "labels"\?\)/,
    },
    {
      name: 'fail/unknown field in spec',
      doc: role({ allowed: {} }),
      field: 'spec.allowed',
      message: /unknown field "allowed"/,
    },
    {
      name: 'fail/unknown field in allow',
      doc: allow({ db_lables: { '*': '*' } }),
      field: 'spec.allow.db_lables',
      message: /did you mean "db_labels"/,
    },
    {
      name: 'fail/unknown field in options',
      doc: role({ options: { ttl: '1h' } }),
      field: 'spec.options.ttl',
    },
    {
      name: 'fail/unknown field in a rule',
      doc: allow({ rules: [{ resources: ['db'], verbs: ['read'], where: 'x' }] }),
      field: 'spec.allow.rules[0].where',
    },
    // durations
    {
      name: 'fail/duration without unit',
      doc: role({ options: { max_session_ttl: '30' } }),
      field: 'spec.options.max_session_ttl',
      message: /needs a unit/,
    },
    {
      name: 'fail/duration as a number',
      doc: role({ options: { max_session_ttl: 30 } }),
      field: 'spec.options.max_session_ttl',
      message: /expected a string/,
    },
    {
      name: 'fail/negative duration',
      doc: role({ options: { max_session_ttl: '-1h' } }),
      field: 'spec.options.max_session_ttl',
    },
    {
      name: 'fail/day unit',
      doc: role({ options: { max_session_ttl: '2d' } }),
      field: 'spec.options.max_session_ttl',
      message: /unknown unit "d"/,
    },
    {
      name: 'fail/zero duration',
      doc: role({ options: { max_session_ttl: '0s' } }),
      field: 'spec.options.max_session_ttl',
      message: /greater than zero/,
    },
    // label selectors
    {
      name: 'fail/regex in a selector glob',
      doc: allow({ db_labels: { env: ['dev', '^prod-(a|b)$'] } }),
      field: 'spec.allow.db_labels.env[1]',
      message: /only "\*" is supported/,
    },
    ...['^', '$', '(', '[', '{', '|', '\\', '+', '?'].map(
      (ch): Case => ({
        name: `fail/regex character ${ch} in a single-string selector`,
        doc: allow({ node_labels: { env: `a${ch}b` } }),
        field: 'spec.allow.node_labels.env[0]',
        message: /only "\*" is supported as a wildcard/,
      }),
    ),
    {
      name: 'fail/empty selector value',
      doc: allow({ app_labels: { env: '' } }),
      field: 'spec.allow.app_labels.env[0]',
      message: /must not be empty/,
    },
    {
      name: 'fail/empty selector list',
      doc: allow({ app_labels: { env: [] } }),
      field: 'spec.allow.app_labels.env',
    },
    {
      name: 'fail/null selector value',
      doc: allow({ app_labels: { env: null } }),
      field: 'spec.allow.app_labels.env',
      message: /expected a string or a list of strings/,
    },
    {
      name: 'fail/empty selector key',
      doc: allow({ db_labels: { '': '*' } }),
      field: 'spec.allow.db_labels[""]',
    },
    {
      name: 'fail/glob in selector key',
      doc: allow({ db_labels: { 'env*': '*' } }),
      field: 'spec.allow.db_labels["env*"]',
    },
    {
      name: 'fail/selector is a list',
      doc: allow({ db_labels: ['env'] }),
      field: 'spec.allow.db_labels',
      message: /expected a mapping/,
    },
    {
      name: 'fail/__proto__ selector key is not silently dropped',
      doc: allow({ db_labels: JSON.parse('{"__proto__": "x"}') }),
      field: 'spec.allow.db_labels.__proto__',
    },
    // lists and rules
    {
      name: 'fail/logins as a string',
      doc: allow({ logins: 'alice' }),
      field: 'spec.allow.logins',
      message: /expected a list of login names/,
    },
    { name: 'fail/login with a space', doc: allow({ logins: ['al ice'] }), field: 'spec.allow.logins[0]' },
    {
      name: 'fail/login starting with -',
      doc: allow({ logins: ['-oProxyCommand'] }),
      field: 'spec.allow.logins[0]',
    },
    {
      name: 'fail/db_names of numbers',
      doc: allow({ db_names: [1] }),
      field: 'spec.allow.db_names[0]',
      message: /expected a string/,
    },
    {
      name: 'fail/unknown rule resource',
      doc: allow({ rules: [{ resources: ['database'], verbs: ['read'] }] }),
      field: 'spec.allow.rules[0].resources[0]',
    },
    {
      name: 'fail/unknown rule verb',
      doc: allow({ rules: [{ resources: ['db'], verbs: ['get'] }] }),
      field: 'spec.allow.rules[0].verbs[0]',
    },
    {
      name: 'fail/rule without verbs',
      doc: allow({ rules: [{ resources: ['db'] }] }),
      field: 'spec.allow.rules[0].verbs',
      message: /is required/,
    },
    {
      name: 'fail/rule with empty verbs',
      doc: allow({ rules: [{ resources: ['db'], verbs: [] }] }),
      field: 'spec.allow.rules[0].verbs',
    },
    {
      name: 'fail/aws role arn with wildcard',
      doc: allow({ aws_role_arns: ['arn:aws:iam::123456789012:role/*'] }),
      field: 'spec.allow.aws_role_arns[0]',
    },
    {
      name: 'fail/impersonate an invalid name',
      doc: allow({ impersonate: { roles: ['a/b'] } }),
      field: 'spec.allow.impersonate.roles[0]',
    },
    {
      name: 'fail/too many logins',
      doc: allow({ logins: Array.from({ length: 65 }, (_, i) => `u${i}`) }),
      field: 'spec.allow.logins',
      message: /at most 64/,
    },
    // envelope
    {
      name: 'fail/missing spec',
      doc: { kind: 'role', version: 'v1', metadata: { name: 'x' } },
      field: 'spec',
      message: /is required/,
    },
    { name: 'fail/spec is a list', doc: role([]), field: 'spec', message: /expected a mapping, got a list/ },
  ])
})
