import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { main } from '../../../lib/cli/main.ts'

describe('credbroker CLI', () => {
  let dir: string
  let out: string[]
  let err: string[]
  const run = (...argv: string[]) =>
    main(argv, {
      env: { CREDBROKER_STATE_DIR: join(dir, 'state'), CREDBROKER_LOG_LEVEL: 'warn' },
      cwd: process.cwd(),
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
    })

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'credbroker-cli-'))
    out = []
    err = []
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('ok/start bootstraps the example cluster, and a second run reuses the state', async () => {
    assert.equal(await run('start'), 0)
    const first = out.join('\n')
    assert.match(first, /role\s+machine-id-db\s+created/)
    assert.match(first, /db\/example\s+yes\s+db users@names: alice@example/)
    assert.match(first, /node\/localhost\s+yes\s+logins: alice, credbroker/)
    out = []
    assert.equal(await run('start'), 0)
    const second = out.join('\n')
    assert.doesNotMatch(second, /created|updated/)
    assert.equal(second.match(/unchanged/g)?.length, 5)
  })

  it('ok/get prints YAML of one resource and of a kind', async () => {
    await run('start')
    out = []
    assert.equal(await run('get', 'role/machine-id-db'), 0)
    assert.match(out.join('\n'), /^kind: role\n/)
    assert.match(out.join('\n'), /db_names:\n\s+- example/)
    out = []
    assert.equal(await run('get', 'role'), 0)
    assert.equal(out.join('\n').match(/^kind: role$/gm)?.length, 2)
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
