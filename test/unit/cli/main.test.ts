import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { main } from '../../../lib/cli/main.ts'
import { freePort } from '../../helpers/peer-process.ts'

describe('credbroker CLI', () => {
  let dir: string
  let out: string[]
  let err: string[]
  let port: number
  const run = (...argv: string[]) =>
    main(argv, {
      env: {
        CREDBROKER_STATE_DIR: join(dir, '.credbroker'),
        CREDBROKER_LOG_LEVEL: 'warn',
        CREDBROKER_LISTEN: `127.0.0.1:${port}`,
      },
      cwd: process.cwd(),
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
    })

  beforeEach(async () => {
    port = await freePort()
    dir = mkdtempSync(join(tmpdir(), 'credbroker-cli-'))
    out = []
    err = []
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('ok/start --oneshot serves the auth service, joins the bot and writes its output; a second run reuses the state', async () => {
    assert.equal(await run('start', '--oneshot'), 0, err.join('\n'))
    const first = out.join('\n')
    assert.match(first, /generation 1\)/)
    assert.match(first, /^ssh\s+\.credbroker\/out\/ssh\s+alice,credbroker\s+\d{4}-/m)
    assert.ok(
      readFileSync(join(dir, '.credbroker/out/ssh/tlscert'), 'utf8').startsWith(
        '-----BEGIN CERTIFICATE-----',
      ),
    )
    out = []
    assert.equal(await run('start', '--oneshot'), 0, err.join('\n'))
    assert.match(out.join('\n'), /generation 2\)/)
  })

  it('ok/get prints YAML of one resource and of a kind', async () => {
    assert.equal(await run('start', '--oneshot'), 0)
    out = []
    assert.equal(await run('get', 'role/machine-id-db'), 0)
    assert.match(out.join('\n'), /^kind: role\n/)
    assert.match(out.join('\n'), /db_names:\n\s+- example/)
    out = []
    assert.equal(await run('get', 'role'), 0)
    assert.equal(out.join('\n').match(/^kind: role$/gm)?.length, 3) // access, machine-id-db, admin
  })

  it('fail/get of a missing database says database "x" not found', async () => {
    assert.equal(await run('get', 'db/example'), 1)
    assert.deepEqual(err, ['error [ERR_NOT_FOUND]: database "example" not found'])
  })

  it('fail/create of an invalid document names the field and writes nothing', async () => {
    const file = join(dir, 'bad.yaml')
    writeFileSync(
      file,
      'kind: role\nversion: v1\nmetadata:\n  name: bad\nspec:\n  allow:\n    max_session_ttl: 1h\n',
    )
    assert.equal(await run('create', '-f', file), 1)
    assert.match(err[0] ?? '', /^error \[ERR_INVALID_RESOURCE\]: spec\.allow\.max_session_ttl: unknown field/)
    out = []
    assert.equal(await run('get', 'role'), 0)
    assert.deepEqual(out, [])
  })

  it('ok/create, then rm', async () => {
    const file = join(dir, 'lock.yaml')
    writeFileSync(
      file,
      'kind: lock\nversion: v1\nmetadata:\n  name: l1\nspec:\n  target: {role: access}\n  message: investigating\n',
    )
    assert.equal(await run('create', '-f', file), 0)
    assert.equal(await run('create', '-f', file), 1)
    assert.match(err[0] ?? '', /ERR_ALREADY_EXISTS/)
    assert.equal(await run('rm', 'lock/l1'), 0)
    assert.equal(await run('rm', 'lock/l1'), 1)
  })

  it('ok/bots add prints a one-time token; bots instances add another; bots ls lists the bot', async () => {
    assert.equal(await run('bots', 'add', 'ci', '--roles', 'access,machine-id-db'), 0, err.join('\n'))
    assert.match(
      out.join('\n'),
      /^bot "ci" created with roles access, machine-id-db\ntoken: [0-9a-f]{32}\nexpires: /,
    )
    out = []
    assert.equal(await run('bots', 'instances', 'add', 'ci', '--token-ttl', '10m'), 0)
    assert.match(out.join('\n'), /^token: [0-9a-f]{32}\n/)
    out = []
    assert.equal(await run('bots', 'ls'), 0)
    assert.match(out.join('\n'), /^ci\s+access, machine-id-db$/m)
    assert.equal(await run('bots', 'add', 'nobody'), 2)
    assert.match(err.at(-2) ?? '', /needs --roles/)
    assert.equal(err.at(-1), 'hint: credbroker help bots add')
    assert.equal(await run('bots', 'instances', 'add', 'ghost'), 1)
    assert.match(err.at(-1) ?? '', /bot "ghost" not found/)
  })

  it('fail/usage errors exit 2', async () => {
    assert.equal(await run('frob'), 2)
    assert.equal(await run('get', '--nope'), 2)
    assert.equal(await run(), 2)
    assert.equal(await run('help'), 0)
  })

  it('fail/an invalid environment names the variable', async () => {
    const code = await main(['get', 'role'], {
      env: { CREDBROKER_STORE: 'redis' },
      cwd: dir,
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
    })
    assert.equal(code, 1)
    assert.match(err[0] ?? '', /ERR_INVALID_CONFIG\]: CREDBROKER_STORE: must be one of/)
  })
})
