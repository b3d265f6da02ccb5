import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  MAX_BUNDLE_BYTES,
  MAX_DOCUMENT_BYTES,
  parseResource,
  parseResources,
  toJson,
  toYaml,
} from '../../../lib/resources/parse.ts'
import type { Role } from '../../../lib/resources/types.ts'
import { assertFails } from './cases.ts'

const EXAMPLES = 'examples/cluster'

const ROLE_YAML = `# the guide's role
kind: role
version: v1
metadata:
  name: machine-id-db
spec:
  allow:
    db_labels:
      '*': '*'
    db_names: [example]
    db_users: [alice]
    rules:
      - resources: [db_server, db]
        verbs: [read, list]
`

describe('Function: parseResource', () => {
  it('ok/parses YAML into the canonical form', () => {
    const role = parseResource(ROLE_YAML) as Role
    assert.equal(role.kind, 'role')
    assert.deepEqual(role.spec.allow.db_labels, { '*': ['*'] })
    assert.deepEqual(role.spec.deny.logins, [])
  })

  it('ok/parses JSON, with or without format', () => {
    const json = JSON.stringify({
      kind: 'bot',
      version: 'v1',
      metadata: { name: 'b' },
      spec: { roles: ['a'] },
    })
    assert.deepEqual(parseResource(json, { format: 'json' }), parseResource(json))
    assert.equal(parseResource(`\uFEFF${json}`, { format: 'json' }).kind, 'bot')
  })

  it('ok/YAML 1.2 core schema: yes/no and timestamps stay strings', () => {
    const node = parseResource(
      'kind: node\nversion: v1\nmetadata: {name: x, labels: {a: yes, b: 2026-01-01}}\nspec: {hostname: h, addr: "h:22"}',
    )
    // `yes` is a string in YAML 1.2; `2026-01-01` is not a timestamp in the core schema.
    assert.deepEqual(node.metadata.labels, { a: 'yes', b: '2026-01-01' })
  })

  describe('acceptance: every error names the field', () => {
    const header = 'kind: role\nversion: v1\nmetadata:\n  name: r\n'
    const cases: [string, string, string, RegExp][] = [
      [
        'fail/wrong kind',
        'kind: rolle\nversion: v1\nmetadata: {name: r}\nspec: {}',
        'kind',
        /unknown kind "rolle"; valid kinds: role, bot/,
      ],
      ['fail/unknown top-level field', `${header}spec: {}\nstatus: {}`, 'status', /unknown field "status"/],
      [
        'fail/unknown field in metadata',
        'kind: role\nversion: v1\nmetadata: {name: r, owner: me}\nspec: {}',
        'metadata.owner',
        /unknown field "owner"/,
      ],
      [
        'fail/unknown field in spec',
        `${header}spec:\n  alow: {}`,
        'spec.alow',
        /unknown field "alow" \(did you mean "allow"\?\)/,
      ],
      [
        'fail/unknown field in allow',
        `${header}spec:\n  allow:\n    db_label: {'*': '*'}`,
        'spec.allow.db_label',
        /did you mean "db_labels"/,
      ],
      [
        'fail/bad duration',
        `${header}spec:\n  options:\n    max_session_ttl: 8 hours`,
        'spec.options.max_session_ttl',
        /duration "8 hours"/,
      ],
      [
        'fail/bare-number duration',
        `${header}spec:\n  options:\n    max_session_ttl: 3600`,
        'spec.options.max_session_ttl',
        /expected a string, got number 3600/,
      ],
      [
        'fail/regex label glob',
        `${header}spec:\n  allow:\n    db_labels:\n      env: '^(dev|test)$'`,
        'spec.allow.db_labels.env[0]',
        /only "\*" is supported as a wildcard/,
      ],
      [
        'fail/regex in a list of globs',
        `${header}spec:\n  allow:\n    node_labels:\n      env: [dev, 'te.+']`,
        'spec.allow.node_labels.env[1]',
        /only "\*"/,
      ],
      [
        'fail/YAML syntax error has line and column',
        `${header}spec:\n  allow: [\n`,
        '',
        /invalid YAML at line \d+, column \d+/,
      ],
      [
        'fail/duplicate key',
        `${header}spec: {}\nspec: {}`,
        '',
        /invalid YAML at line 6, column 1: Map keys must be unique/,
      ],
      ['fail/binary tag', `${header}spec: !!binary aGk=`, 'spec', /expected plain data .*got Buffer/],
      ['fail/set tag', `${header}spec: !!set {a}`, 'spec', /expected plain data/],
      [
        'fail/infinity',
        `${header}spec:\n  allow:\n    logins: [.inf]`,
        'spec.allow.logins[0]',
        /expected a finite number/,
      ],
      [
        'fail/unknown tag',
        `${header}spec: !foo {}`,
        '',
        /invalid YAML at line 5, column 7: Unresolved tag: !foo/,
      ],
      ['fail/empty text', '', '', /the document is empty/],
      ['fail/comment only', '# nothing\n', '', /the document is empty/],
      [
        'fail/two documents',
        `${header}spec: {}\n---\n${header}spec: {}`,
        '',
        /expected one document, found 2/,
      ],
      ['fail/a list', '- kind: role', '', /expected a mapping/],
      ['fail/a scalar', 'hello', '', /expected a mapping.*got a string/],
    ]
    for (const [name, text, field, message] of cases) {
      it(name, () => assertFails(() => parseResource(text), { field, message }))
    }

    it('fail/JSON syntax error has line and column', () => {
      assertFails(() => parseResource('{\n  "kind": "role",\n  oops\n}', { format: 'json' }), {
        field: '',
        message: /invalid JSON at line 3, column 3/,
      })
    })

    it('fail/alias bomb is refused', () => {
      const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]']
      for (let i = 1; i < 10; i++)
        lines.push(
          `${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(10)
            .fill(`*${'abcdefghij'[i - 1]}`)
            .join(', ')}]`,
        )
      assertFails(() => parseResource(lines.join('\n')), { field: '', message: /invalid YAML/ })
    })
  })

  describe('size limit', () => {
    it(`fail/a document over ${MAX_DOCUMENT_BYTES} bytes is refused before parsing`, () => {
      // Not even valid YAML: the size check must come first.
      const text = `kind: role\n${'#'.repeat(MAX_DOCUMENT_BYTES)}\n: : :`
      assertFails(() => parseResource(text), {
        code: 'ERR_TOO_LARGE',
        message: /at most 65536 bytes \(64 KiB\)/,
      })
    })

    it('fail/multi-byte characters count as bytes', () => {
      const text = `# ${'é'.repeat(MAX_DOCUMENT_BYTES / 2)}\nkind: role`
      assert.ok(text.length < MAX_DOCUMENT_BYTES)
      assertFails(() => parseResource(text), { code: 'ERR_TOO_LARGE' })
    })

    it('ok/a document just under the limit parses', () => {
      const padding = `# ${'x'.repeat(MAX_DOCUMENT_BYTES - ROLE_YAML.length - 3)}\n`
      const text = padding + ROLE_YAML
      assert.equal(Buffer.byteLength(text), MAX_DOCUMENT_BYTES)
      assert.equal(parseResource(text).kind, 'role')
    })
  })
})

describe('Function: parseResources', () => {
  it('ok/multi-document YAML, skipping empty documents', () => {
    const text = `---\n${ROLE_YAML}---\n# only a comment\n---\nkind: bot\nversion: v1\nmetadata: {name: example}\nspec: {roles: [machine-id-db]}\n---\n`
    const resources = parseResources(text)
    assert.deepEqual(
      resources.map((r) => `${r.kind}/${r.metadata.name}`),
      ['role/machine-id-db', 'bot/example'],
    )
  })

  it('ok/empty text gives no resources', () => assert.deepEqual(parseResources(''), []))

  it('ok/a JSON list', () => {
    const docs = [1, 2].map((i) => ({ kind: 'bot', version: 'v1', metadata: { name: `b${i}` }, spec: {} }))
    assert.equal(parseResources(JSON.stringify(docs), { format: 'json' }).length, 2)
  })

  it('fail/an invalid document is named by position', () => {
    const text = `${ROLE_YAML}---\n---\nkind: bot\nversion: v1\nmetadata: {name: b}\nspec: {roles: x}\n`
    assertFails(() => parseResources(text), {
      field: 'spec.roles',
      message: /expected a list of names \(document 3\)/,
    })
  })

  it('fail/a syntax error is named by position', () => {
    assertFails(() => parseResources(`${ROLE_YAML}---\nkind: [`), {
      field: '',
      message: /invalid YAML.*\(document 2\)/,
    })
  })

  it('fail/one oversized document in a bundle', () => {
    const big = `${ROLE_YAML}---\n${'#'.repeat(MAX_DOCUMENT_BYTES)}\n${ROLE_YAML}`
    assertFails(() => parseResources(big), { code: 'ERR_TOO_LARGE', message: /\(document 2\)/ })
  })

  it('fail/bundle over the total limit', () => {
    assertFails(() => parseResources('#'.repeat(MAX_BUNDLE_BYTES + 1)), { code: 'ERR_TOO_LARGE' })
  })
})

describe('Function: toYaml / toJson', () => {
  it('ok/round-trips: parse(toYaml(r)) equals r, and output is stable', () => {
    const role = parseResource(ROLE_YAML)
    const yaml = toYaml(role)
    assert.deepEqual(parseResource(yaml), role)
    assert.equal(toYaml(parseResource(yaml)), yaml)
    assert.deepEqual(parseResource(toJson(role), { format: 'json' }), role)
  })

  it('ok/canonical key order whatever the input order', () => {
    const a = parseResource(
      'spec: {hostname: h, addr: "h:1"}\nmetadata: {labels: {b: "2", a: "1"}, name: n}\nversion: v1\nkind: node',
    )
    assert.equal(
      toJson(a, { indent: 0 }),
      '{"kind":"node","version":"v1","metadata":{"name":"n","labels":{"a":"1","b":"2"}},"spec":{"hostname":"h","addr":"h:1"}}',
    )
    assert.match(toYaml(a), /^kind: node\nversion: v1\nmetadata:\n {2}name: n\n/)
  })

  it('ok/several resources become a multi-document YAML', () => {
    const resources = parseResources(readFileSync(join(EXAMPLES, 'bot-example.yaml'), 'utf8'))
    const text = toYaml([...resources, ...resources])
    assert.equal(text.split('---\n').length, 2)
    assert.deepEqual(parseResources(text), [...resources, ...resources])
  })

  it('ok/account ids stay strings through YAML', () => {
    const token = parseResource(
      'kind: token\nversion: v1\nmetadata: {name: t}\nspec: {join_method: iam, bot_name: b, allow: [{aws_account: "012345678901"}]}',
    )
    assert.match(toYaml(token), /aws_account: "012345678901"/)
    assert.deepEqual(parseResource(toYaml(token)), token)
  })
})

describe('Examples: examples/cluster', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'))
  it('ok/the expected example files exist', () => {
    assert.deepEqual(files.sort(), [
      'bot-example.yaml',
      'db-example.yaml',
      'node-localhost.yaml',
      'role-access.yaml',
      'role-machine-id-db.yaml',
    ])
  })
  for (const file of files) {
    it(`ok/${file} parses cleanly and round-trips`, () => {
      const resource = parseResource(readFileSync(join(EXAMPLES, file), 'utf8'))
      assert.deepEqual(parseResource(toYaml(resource)), resource)
    })
  }
  it('ok/the bot may impersonate both example roles', () => {
    const bot = parseResource(readFileSync(join(EXAMPLES, 'bot-example.yaml'), 'utf8'))
    assert.equal(bot.kind, 'bot')
    assert.deepEqual(bot.kind === 'bot' && bot.spec.roles, ['access', 'machine-id-db'])
  })
})

describe('Function: validateResource (hostile values)', () => {
  it('fail/deep nesting is refused without a stack overflow', () => {
    // Built as text: JSON.stringify itself would overflow on such a value.
    const deep = `${'['.repeat(30_000)}"x"${']'.repeat(30_000)}`
    const text = `{"kind":"bot","version":"v1","metadata":{"name":"b"},"spec":{"roles":${deep}}}`
    assertFails(() => parseResource(text, { format: 'json' }), {
      field: 'spec.roles[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]',
      message: /nested too deeply/,
    })
  })
})
