/**
 * The admin identity directory that `auth bootstrap` writes and remote mode reads: an expired
 * identity is refused before any request, with a hint; a directory without one is named.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { main } from '../../../lib/cli/main.ts'
import { ManualClock } from '../../../lib/clock.ts'
import { freePort } from '../../helpers/peer-process.ts'

describe('admin identity for remote mode', () => {
  let dir: string
  let adminDir: string
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credbroker-admin-id-'))
    const env = {
      CREDBROKER_STATE_DIR: join(dir, 'state'),
      CREDBROKER_LISTEN: `127.0.0.1:${await freePort()}`,
    }
    const out: string[] = []
    const code = await main(['auth', 'bootstrap', '--format', 'json'], {
      env: { ...env, CREDBROKER_LOG_LEVEL: 'warn' },
      cwd: dir,
      stdout: (t) => out.push(t),
      stderr: () => {},
    })
    assert.equal(code, 0)
    adminDir = (JSON.parse(out.join('')) as { admin_identity: string }).admin_identity
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  const run = async (clock: ManualClock, ...argv: string[]) => {
    const err: string[] = []
    const env = { HOME: join(dir, 'home') }
    const code = await main(argv, { env, cwd: dir, clock, stdout: () => {}, stderr: (t) => err.push(t) })
    return { code, err }
  }

  it('fail/an expired identity: exit 1, ERR_UNAUTHENTICATED naming the directory, and a hint', async () => {
    const url = readFileSync(join(adminDir, 'auth_server'), 'utf8').trim()
    const later = new ManualClock(Date.now() + 13 * 3600_000) // the identity lasts 12h
    const res = await run(later, 'bots', 'ls', '--auth-server', url, '--identity', adminDir)
    assert.equal(res.code, 1)
    assert.match(
      res.err[0] ?? '',
      new RegExp(`^error \\[ERR_UNAUTHENTICATED\\]: the admin identity in ${adminDir} expired at \\d{4}-`),
    )
    assert.match(res.err[1] ?? '', /^hint: get a fresh admin identity: credbroker login/)
  })

  it('fail/--identity alone with no auth_server file: a usage error', async () => {
    const res = await run(new ManualClock(), 'bots', 'ls', '--identity', dir)
    assert.equal(res.code, 2)
    assert.match(res.err[0] ?? '', /^error \[ERR_BAD_REQUEST\]: --identity needs --auth-server URL/)
  })

  it('ok/with an auth server but no identity named, the one login wrote to ~/.credbroker/identity is used', async () => {
    const url = readFileSync(join(adminDir, 'auth_server'), 'utf8').trim()
    const none = await run(new ManualClock(), 'bots', 'ls', '--auth-server', url)
    assert.equal(none.code, 2)
    assert.match(none.err[0] ?? '', /--auth-server needs --identity DIR .*credbroker login writes one$/)
    const loginDir = join(dir, 'home', '.credbroker', 'identity')
    cpSync(adminDir, loginDir, { recursive: true, dereference: true })
    // Expired on purpose: the error names the directory that was chosen, without any request.
    const res = await run(new ManualClock(Date.now() + 13 * 3600_000), 'bots', 'ls', '--auth-server', url)
    assert.equal(res.code, 1)
    assert.match(res.err[0] ?? '', new RegExp(`the admin identity in ${loginDir} expired at`))
  })
})
