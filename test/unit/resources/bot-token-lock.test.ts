import assert from 'node:assert/strict'
import { describe } from 'node:test'
import type { Bot, Lock, Token } from '../../../lib/resources/types.ts'
import { doc, runCases } from './cases.ts'

const EXPIRES = { name: 'secret123', expires: '2026-01-01T00:30:00Z' }
const ID = '3f2c0b7e-8d1a-4c56-9e0f-2b7a4d1c9e85'

describe('Schema: bot', () => {
  const bot = (spec: unknown) => doc('bot', spec)
  runCases([
    {
      name: 'ok/roles only; traits default to []',
      doc: bot({ roles: ['access', 'machine-id-db'] }),
      check: (r) => assert.deepEqual((r as Bot).spec, { roles: ['access', 'machine-id-db'], traits: [] }),
    },
    { name: 'ok/empty spec', doc: bot({}) },
    {
      name: 'ok/traits and max_session_ttl',
      doc: bot({ roles: ['a'], traits: [{ name: 'logins', values: ['alice'] }], max_session_ttl: '12h' }),
    },
    {
      name: 'fail/roles as a string',
      doc: bot({ roles: 'access' }),
      field: 'spec.roles',
      message: /expected a list of names/,
    },
    { name: 'fail/role name with a slash', doc: bot({ roles: ['a/b'] }), field: 'spec.roles[0]' },
    {
      name: 'fail/unknown field',
      doc: bot({ role: ['a'] }),
      field: 'spec.role',
      message: /did you mean "roles"/,
    },
    {
      name: 'fail/duplicate trait',
      doc: bot({
        traits: [
          { name: 'logins', values: [] },
          { name: 'logins', values: ['x'] },
        ],
      }),
      field: 'spec.traits[1].name',
      message: /duplicate trait "logins"/,
    },
    {
      name: 'fail/unknown field in a trait',
      doc: bot({ traits: [{ name: 'a', value: ['x'] }] }),
      field: 'spec.traits[0].value',
    },
    {
      name: 'fail/bad max_session_ttl',
      doc: bot({ max_session_ttl: '1 hour' }),
      field: 'spec.max_session_ttl',
    },
  ])
})

describe('Schema: token', () => {
  const token = (spec: unknown, metadata: object = { name: 'example-iam' }) => doc('token', spec, metadata)
  runCases([
    {
      name: 'ok/token join with an expiry',
      doc: token({ join_method: 'token', bot_name: 'example' }, EXPIRES),
      check: (r) => assert.deepEqual((r as Token).spec.allow, []),
    },
    {
      name: 'ok/iam join with account and arn',
      doc: token({
        join_method: 'iam',
        bot_name: 'example',
        allow: [
          { aws_account: '012345678901' },
          { aws_arn: 'arn:aws:sts::123456789012:assumed-role/ci/i-???' },
          { aws_account: '123456789012', aws_arn: 'arn:aws:sts::123456789012:assumed-role/*' },
        ],
      }),
    },
    {
      name: 'fail/unknown join method',
      doc: token({ join_method: 'oidc', bot_name: 'b' }),
      field: 'spec.join_method',
      message: /"token", "iam"/,
    },
    {
      name: 'fail/iam without allow',
      doc: token({ join_method: 'iam', bot_name: 'b' }),
      field: 'spec.allow',
      message: /at least one allow rule/,
    },
    {
      name: 'fail/iam with empty rule',
      doc: token({ join_method: 'iam', bot_name: 'b', allow: [{}] }),
      field: 'spec.allow[0]',
      message: /needs "aws_account", "aws_arn" or both/,
    },
    {
      name: 'fail/account as a YAML number',
      doc: token({ join_method: 'iam', bot_name: 'b', allow: [{ aws_account: 123456789012 }] }),
      field: 'spec.allow[0].aws_account',
      message: /quote AWS account ids/,
    },
    {
      name: 'fail/11-digit account',
      doc: token({ join_method: 'iam', bot_name: 'b', allow: [{ aws_account: '12345678901' }] }),
      field: 'spec.allow[0].aws_account',
    },
    {
      name: 'fail/arn with spaces',
      doc: token({ join_method: 'iam', bot_name: 'b', allow: [{ aws_arn: 'arn:aws:sts:: x' }] }),
      field: 'spec.allow[0].aws_arn',
    },
    {
      name: 'fail/arn glob without arn: prefix',
      doc: token({ join_method: 'iam', bot_name: 'b', allow: [{ aws_arn: '*' }] }),
      field: 'spec.allow[0].aws_arn',
    },
    {
      name: 'fail/unknown field in a rule',
      doc: token({ join_method: 'iam', bot_name: 'b', allow: [{ aws_role: 'x' }] }),
      field: 'spec.allow[0].aws_role',
    },
    {
      name: 'fail/token join with allow rules',
      doc: token({ join_method: 'token', bot_name: 'b', allow: [{ aws_account: '123456789012' }] }, EXPIRES),
      field: 'spec.allow',
      message: /must be empty for join_method "token"/,
    },
    {
      name: 'fail/token join without expiry',
      doc: token({ join_method: 'token', bot_name: 'b' }),
      field: 'metadata.expires',
      message: /must expire/,
    },
    {
      name: 'fail/missing bot_name',
      doc: token({ join_method: 'iam', allow: [{ aws_account: '123456789012' }] }),
      field: 'spec.bot_name',
      message: /is required/,
    },
  ])
})

describe('Schema: lock', () => {
  const lock = (spec: unknown) => doc('lock', spec)
  runCases([
    {
      name: 'ok/bot instance target, message defaults to ""',
      doc: lock({ target: { bot_instance: `ci/${ID}` } }),
      check: (r) => assert.deepEqual((r as Lock).spec, { target: { bot_instance: `ci/${ID}` }, message: '' }),
    },
    {
      name: 'ok/user target with a multi-line message',
      doc: lock({ target: { user: 'bot-ci' }, message: 'stolen?\nsee ticket 42' }),
    },
    { name: 'ok/role target', doc: lock({ target: { role: 'access' } }) },
    { name: 'ok/join token target', doc: lock({ target: { join_token: 'example-iam' } }) },
    {
      name: 'fail/no target',
      doc: lock({ target: {} }),
      field: 'spec.target',
      message: /exactly one of: user, role, bot_instance, join_token/,
    },
    { name: 'fail/two targets', doc: lock({ target: { user: 'a', role: 'b' } }), field: 'spec.target' },
    {
      name: 'fail/missing target',
      doc: lock({ message: 'x' }),
      field: 'spec.target',
      message: /is required/,
    },
    {
      name: 'fail/bot instance without id',
      doc: lock({ target: { bot_instance: 'ci' } }),
      field: 'spec.target.bot_instance',
    },
    { name: 'fail/unknown target field', doc: lock({ target: { bot: 'ci' } }), field: 'spec.target.bot' },
    {
      name: 'fail/control character in message',
      doc: lock({ target: { role: 'a' }, message: 'a\u0007' }),
      field: 'spec.message',
    },
  ])
})
