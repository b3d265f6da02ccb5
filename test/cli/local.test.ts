/**
 * The `credbroker` executable on a local embedded state (no auth service running): exit codes
 * 0/1/2 (option values that do not parse are usage errors), one-line errors with hints, token
 * secrets masked by `tokens ls` in every format, JSON output that parses, a bad resource file
 * that names the field and writes nothing, `auth bootstrap` writing an admin identity, `version`.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Resource } from '../../lib/resources/types.ts'
import { freePort } from '../helpers/peer-process.ts'
import { cliJson, cliOk, runCli } from './run-cli.ts'

describe('credbroker on the local state', () => {
  let dir: string
  let env: Record<string, string>
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credbroker-cli-local-'))
    env = {
      CREDBROKER_STATE_DIR: join(dir, 'state'),
      CREDBROKER_LISTEN: `127.0.0.1:${await freePort()}`,
      CREDBROKER_LOG_LEVEL: 'warn',
    }
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('ok/auth bootstrap applies documents, writes the admin identity and prints JSON', async () => {
    const report = await cliJson<{
      cluster_name: string
      url: string
      admin_identity: string
      applied: { kind: string; name: string; action: string }[]
    }>(['auth', 'bootstrap', '-f', 'examples/cluster'], { env })
    assert.equal(report.cluster_name, 'credbroker.local')
    assert.equal(report.url, `http://${env.CREDBROKER_LISTEN}`)
    assert.ok(report.applied.some((a) => a.kind === 'role' && a.name === 'access' && a.action === 'created'))
    for (const file of ['key', 'tlscert', 'credbroker-user-ca.crt'])
      assert.ok(existsSync(join(report.admin_identity, file)), file)
    assert.equal(readFileSync(join(report.admin_identity, 'auth_server'), 'utf8'), `${report.url}\n`)
  })

  it('ok/get as JSON parses: one document, or a list', async () => {
    const role = await cliJson<Resource>(['get', 'role/access'], { env })
    assert.equal(role.kind, 'role')
    assert.equal(role.metadata.name, 'access')
    const roles = await cliJson<Resource[]>(['get', 'role'], { env })
    assert.deepEqual(roles.map((r) => r.metadata.name).sort(), ['access', 'admin', 'machine-id-db'])
    const yaml = await cliOk(['get', 'role/access'], { env })
    assert.match(yaml, /^kind: role\n/)
    const table = await cliOk(['get', 'role', '--format', 'text'], { env })
    assert.match(table, /^KIND\s+NAME\s+SUMMARY\s+EXPIRES\n/)
  })

  it('ok/bots add, bots ls and tokens ls; every format masks token secrets unless --show-secrets', async () => {
    const added = await cliJson<{ bot: string; roles: string[]; token: string; token_expires: string }>(
      ['bots', 'add', 'ci', '--roles', 'access', '--token-ttl', '10m'],
      { env },
    )
    assert.equal(added.bot, 'ci')
    assert.match(added.token, /^[0-9a-f]{32}$/)
    assert.deepEqual(await cliJson(['bots', 'ls'], { env }), [
      { name: 'ci', roles: ['access'] },
      { name: 'example', roles: ['access', 'machine-id-db'] },
    ])
    const masked = `${added.token.slice(0, 8)}…`
    type TokenRow = { name: string; bot: string; join_method: string }
    const tokens = await cliJson<TokenRow[]>(['tokens', 'ls'], { env })
    assert.ok(tokens.some((t) => t.name === masked && t.bot === 'ci' && t.join_method === 'token'))
    const text = await cliOk(['tokens', 'ls'], { env })
    const yaml = await cliOk(['tokens', 'ls', '--format', 'yaml'], { env })
    for (const out of [JSON.stringify(tokens), text, yaml])
      assert.ok(!out.includes(added.token), `the whole token is printed:\n${out}`)
    assert.match(text, new RegExp(`^${masked}\\s+ci\\s+token\\s+\\d{4}-`, 'm'))
    assert.match(yaml, new RegExp(`^- name: ${masked}$`, 'm'))
    // --show-secrets prints the full names; get token prints the documents as they are.
    const shown = await cliJson<TokenRow[]>(['tokens', 'ls', '--show-secrets'], { env })
    assert.ok(shown.some((t) => t.name === added.token && t.bot === 'ci'))
    assert.match(
      await cliOk(['tokens', 'ls', '--show-secrets'], { env }),
      new RegExp(`^${added.token}\\s+ci`, 'm'),
    )
    const docs = await cliJson<Resource[]>(['get', 'token'], { env })
    assert.ok(docs.some((d) => d.metadata.name === added.token))
    const updated = await cliJson<{ roles: string[] }>(
      ['bots', 'update', 'ci', '--add-roles', 'machine-id-db'],
      {
        env,
      },
    )
    assert.deepEqual(updated.roles, ['access', 'machine-id-db'])
  })

  it('fail/usage errors exit 2 with one error line and a hint', async () => {
    const cases: [string[], string][] = [
      [['frob'], 'error [ERR_BAD_REQUEST]: unknown command "frob"; expected one of'],
      [['get', '--nope'], 'error [ERR_BAD_REQUEST]: unknown option --nope'],
      [['bots', 'add'], 'error [ERR_BAD_REQUEST]: bots add: missing <name>'],
      [['rm', 'role/a', 'extra'], 'error [ERR_BAD_REQUEST]: rm: unexpected argument "extra"'],
      [
        ['bots', 'ls', '--format', 'xml'],
        'error [ERR_BAD_REQUEST]: --format: must be one of text, json, yaml',
      ],
      [['locks', 'add', '--user'], 'error [ERR_BAD_REQUEST]: option --user needs a value'],
      // Option values that do not parse are usage errors too, whatever the command.
      [
        ['ca', 'rotate', '--type', 'user', '--grace-period', '30'],
        'error [ERR_BAD_REQUEST]: --grace-period: duration "30" needs a unit',
      ],
      [
        ['bots', 'add', 'typo', '--roles', 'access', '--token-ttl', 'ten minutes'],
        'error [ERR_BAD_REQUEST]: --token-ttl: duration "ten minutes" is not valid',
      ],
      [
        ['bots', 'instances', 'add', 'ci', '--token-ttl', '-5m'],
        'error [ERR_BAD_REQUEST]: --token-ttl: duration "-5m" must not have a sign',
      ],
      [
        ['tokens', 'add', '--bot', 'ci', '--ttl', '1d'],
        'error [ERR_BAD_REQUEST]: --ttl: duration "1d" has an unknown unit "d"',
      ],
      [
        ['locks', 'add', '--user', 'a', '--expires', 'soon'],
        'error [ERR_BAD_REQUEST]: --expires: "soon" is neither',
      ],
    ]
    for (const [argv, first] of cases) {
      const res = await runCli(argv, { env })
      assert.equal(res.code, 2, `${argv.join(' ')}: ${res.stderr}`)
      assert.equal(res.stdout, '')
      const lines = res.stderr.trimEnd().split('\n')
      assert.equal(lines.length, 2, res.stderr)
      assert.ok(lines[0]?.startsWith(first), lines[0])
      assert.match(lines[1] ?? '', /^hint: credbroker help/)
    }
    const bots = await cliJson<{ name: string }[]>(['bots', 'ls'], { env })
    assert.ok(!bots.some((b) => b.name === 'typo'), 'a bot was added despite a bad --token-ttl')
  })

  it('fail/an error to act on exits 1 with error [CODE]: message', async () => {
    const res = await runCli(['get', 'db/nope'], { env })
    assert.equal(res.code, 1)
    assert.equal(res.stderr, 'error [ERR_NOT_FOUND]: database "nope" not found\n')
    const remote = await runCli(['bots', 'ls', '--auth-server', 'http://127.0.0.1:9', '--identity', dir], {
      env,
    })
    assert.equal(remote.code, 1)
    assert.match(
      remote.stderr,
      /^error \[ERR_BAD_REQUEST\]: .* holds no admin identity \(files key and tlscert\)\n$/,
    )
  })

  it('fail/a bad resource file: exit 1, the error names the field and the file, nothing is written', async () => {
    const file = join(dir, 'bad.yaml')
    writeFileSync(
      file,
      [
        'kind: role',
        'version: v1',
        'metadata: {name: good}',
        'spec: {allow: {logins: [alice]}}',
        '---',
        'kind: role',
        'version: v1',
        'metadata: {name: bad}',
        'spec: {allow: {db_lables: {env: [dev]}}}',
        '',
      ].join('\n'),
    )
    for (const command of ['create', 'apply']) {
      const res = await runCli([command, '-f', file], { env })
      assert.equal(res.code, 1, res.stderr)
      assert.match(
        res.stderr,
        /^error \[ERR_INVALID_RESOURCE\]: spec\.allow\.db_lables: unknown field "db_lables" \(did you mean "db_labels"\?\)/,
      )
      assert.match(res.stderr, /bad\.yaml/)
      assert.equal(res.stderr.trimEnd().split('\n').length, 1)
    }
    const names = (await cliJson<Resource[]>(['get', 'role'], { env })).map((r) => r.metadata.name)
    assert.ok(!names.includes('good') && !names.includes('bad'), names.join(','))
  })

  it('ok/version prints the package version, Node version and commit', async () => {
    const info = await cliJson<{ version: string; node: string; commit: string | null }>(['version'], {
      env: { CREDBROKER_COMMIT: 'abc123' },
    })
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
    assert.deepEqual(info, { version: pkg.version, node: process.version, commit: 'abc123' })
    assert.match(await cliOk(['version']), /^credbroker \d+\.\d+\.\d+ \(node v\d+/)
  })
})
