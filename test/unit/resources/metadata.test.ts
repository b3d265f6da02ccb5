import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { doc, runCases } from './cases.ts'

const node = (metadata: object) => doc('node', { hostname: 'h', addr: 'h:22' }, metadata)

describe('Schema: metadata and envelope', () => {
  runCases([
    { name: 'ok/name with dots, dashes, underscores and @', doc: node({ name: 'a.b-c_d@e' }) },
    { name: 'ok/253-character name', doc: node({ name: 'a'.repeat(253) }) },
    {
      name: 'ok/labels sorted, description multi-line, expires and revision kept',
      doc: node({
        name: 'x',
        description: 'line one\nline two',
        labels: { zone: 'b', 'teleport.internal/bot': 'ci', env: 'dev' },
        expires: '2026-06-01T12:00:00.5-07:00',
        revision: 'r1',
      }),
      check: (r) => {
        assert.deepEqual(Object.keys(r.metadata.labels), ['env', 'teleport.internal/bot', 'zone'])
        assert.equal(r.metadata.expires, '2026-06-01T12:00:00.5-07:00')
        assert.equal(r.metadata.revision, 'r1')
      },
    },
    { name: 'ok/leap-year day', doc: node({ name: 'x', expires: '2028-02-29T00:00:00Z' }) },
    {
      name: 'fail/missing metadata',
      doc: { kind: 'node', version: 'v1', spec: {} },
      field: 'metadata',
      message: /is required/,
    },
    { name: 'fail/missing name', doc: node({}), field: 'metadata.name', message: /is required/ },
    { name: 'fail/name with a slash', doc: node({ name: 'a/b' }), field: 'metadata.name' },
    { name: 'fail/name with a space', doc: node({ name: 'a b' }), field: 'metadata.name' },
    { name: 'fail/name starting with a dot', doc: node({ name: '.hidden' }), field: 'metadata.name' },
    { name: 'fail/non-ascii name', doc: node({ name: 'café' }), field: 'metadata.name' },
    { name: 'fail/254-character name', doc: node({ name: 'a'.repeat(254) }), field: 'metadata.name' },
    {
      name: 'fail/name as a number',
      doc: node({ name: 42 }),
      field: 'metadata.name',
      message: /expected a string, got number 42/,
    },
    {
      name: 'fail/label key with a star',
      doc: node({ name: 'x', labels: { 'env*': 'a' } }),
      field: 'metadata.labels["env*"]',
    },
    {
      name: 'fail/empty label value',
      doc: node({ name: 'x', labels: { env: '' } }),
      field: 'metadata.labels.env',
      message: /must not be empty/,
    },
    {
      name: 'fail/label value as a list',
      doc: node({ name: 'x', labels: { env: ['a'] } }),
      field: 'metadata.labels.env',
      message: /expected a string/,
    },
    {
      name: 'fail/labels as a list',
      doc: node({ name: 'x', labels: ['env'] }),
      field: 'metadata.labels',
      message: /expected a mapping of labels/,
    },
    {
      name: 'fail/too many labels',
      doc: node({
        name: 'x',
        labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])),
      }),
      field: 'metadata.labels',
      message: /at most 64/,
    },
    {
      name: 'fail/expires not RFC 3339',
      doc: node({ name: 'x', expires: '2026-01-01 00:00:00' }),
      field: 'metadata.expires',
    },
    {
      name: 'fail/expires on Feb 30',
      doc: node({ name: 'x', expires: '2026-02-30T00:00:00Z' }),
      field: 'metadata.expires',
    },
    {
      name: 'fail/expires at hour 24',
      doc: node({ name: 'x', expires: '2026-01-01T24:00:00Z' }),
      field: 'metadata.expires',
    },
    {
      name: 'fail/expires without zone',
      doc: node({ name: 'x', expires: '2026-01-01T00:00:00' }),
      field: 'metadata.expires',
    },
    {
      name: 'fail/unknown kind',
      doc: doc('database', {}),
      field: 'kind',
      message:
        /unknown kind "database"; valid kinds: role, bot, token, bot_instance, lock, db, kube_cluster, app, node/,
    },
    {
      name: 'fail/kind as a number',
      doc: doc(7 as unknown as string, {}),
      field: 'kind',
      message: /unknown kind 7/,
    },
    {
      name: 'fail/missing kind',
      doc: { version: 'v1', metadata: { name: 'x' }, spec: {} },
      field: 'kind',
      message: /is required; valid kinds/,
    },
    {
      name: "fail/version v5 (the guide's)",
      doc: { ...node({ name: 'x' }), version: 'v5' },
      field: 'version',
      message: /unsupported version "v5" for kind node; supported versions: v1/,
    },
    {
      name: 'fail/missing version',
      doc: { kind: 'node', metadata: { name: 'x' }, spec: {} },
      field: 'version',
      message: /is required; supported versions: v1/,
    },
    { name: 'fail/not a mapping', doc: ['kind', 'role'], field: '', message: /expected a mapping/ },
    { name: 'fail/null', doc: null, field: '' },
    { name: 'fail/string', doc: 'kind: role', field: '' },
    {
      name: 'fail/__proto__ at top level',
      doc: JSON.parse(
        '{"kind":"node","version":"v1","metadata":{"name":"x"},"spec":{"hostname":"h","addr":"h:1"},"__proto__":{}}',
      ),
      field: '__proto__',
    },
  ])
})
