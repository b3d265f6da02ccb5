/**
 * The troubleshooting guide's first scenario with real processes: two `credbroker bot` processes
 * configured with one internal storage directory, against an auth service on 127.0.0.1.
 *
 * 1. A daemon joins and holds the storage's lease.
 * 2. A second bot (`--oneshot`) exits 1 with `error [ERR_ALREADY_EXISTS]: the bot storage … is in
 *    use by another bot process (host <this host>, pid <the daemon's>, since …, until …); give
 *    each bot its own storage`, having sent nothing.
 * 3. The daemon is not disturbed: a SIGHUP renews it.
 * 4. SIGTERM stops it cleanly, releasing the lease; now the second bot runs, carrying on the same
 *    identity. Nothing is ever locked.
 *
 * The server runs on the system clock, as the bot processes do; nothing here waits for time to
 * pass, only for log lines and exits.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { hostname, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { serve } from '@hono/node-server'
import { MemoryKeyStore } from '../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../lib/adapters/memory/store.ts'
import { addJoinToken } from '../../lib/auth/bots.ts'
import { type AuthService, createAuthService } from '../../lib/auth/service.ts'
import { loadDocuments } from '../../lib/cli/load-documents.ts'
import { systemClock } from '../../lib/clock.ts'
import { silentLogger } from '../../lib/log.ts'
import { cryptoRandom } from '../../lib/random.ts'
import { applyResources } from '../../lib/services/apply.ts'
import { PeerLog } from '../helpers/peer-log.ts'
import { runProgram } from '../helpers/run-program.ts'

const CLI = resolve('bin/credbroker.ts')
const DEADLINE_MS = 60_000
const env = { ...process.env, CREDBROKER_LOG_LEVEL: 'info', NODE_NO_WARNINGS: '1' }

describe('e2e: two bot processes on one storage directory', () => {
  let dir: string
  let service: AuthService
  let url: string
  let close: () => Promise<void>
  let daemon: ChildProcess | undefined

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credbroker-e2e-lease-'))
    service = await createAuthService({
      clusterName: 'lease.test',
      publicAddr: 'http://127.0.0.1',
      store: new MemoryStore({ clock: systemClock }),
      keys: new MemoryKeyStore(),
      clock: systemClock,
      random: cryptoRandom,
      log: silentLogger,
    })
    await applyResources(service.deps.resources, loadDocuments(resolve('examples/cluster')))
    const server = serve({ fetch: service.app.fetch, hostname: '127.0.0.1', port: 0 })
    await once(server, 'listening')
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    close = () => new Promise<void>((done) => server.close(() => done()))
  })

  after(async () => {
    daemon?.kill('SIGKILL')
    await close?.()
    rmSync(dir, { recursive: true, force: true })
  })

  it('fail/the second exits 1 naming the daemon; the daemon keeps renewing; after its clean stop the second runs; never a lock', async () => {
    // Prepare: one configuration, used by both processes (the misconfiguration).
    const { token } = await addJoinToken(service.deps, 'example')
    const storage = join(dir, 'bot')
    const config = join(dir, 'bot.yaml')
    writeFileSync(
      config,
      [
        'version: v1',
        `auth_server: ${url}`,
        'onboarding:',
        '  join_method: token',
        `  token: ${token}`,
        'storage:',
        '  type: directory',
        `  path: ${storage}`,
        'outputs:',
        '  - type: identity',
        '    roles: [access]',
        '    destination:',
        '      type: directory',
        `      path: ${join(dir, 'out')}`,
        '',
      ].join('\n'),
    )
    const oneShot = () =>
      runProgram(process.execPath, ['--import', 'tsx', CLI, 'bot', '-c', config, '--oneshot'], {
        timeoutMs: DEADLINE_MS,
        env,
      })

    // 1. The daemon joins and writes its output.
    daemon = spawn(process.execPath, ['--import', 'tsx', CLI, 'bot', '-c', config], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env,
    })
    const log = new PeerLog('the daemon')
    daemon.stderr?.on('data', (chunk: Buffer) => log.append(chunk.toString('utf8')))
    const exited = once(daemon, 'close') as Promise<[number | null, NodeJS.Signals | null]>
    await log.waitFor(/Successfully renewed impersonated certificates/, 0, DEADLINE_MS)
    assert.match(log.text, /INFO {2}holding the lease on the bot storage .*mode=daemon/)
    assert.match(log.text, /INFO {2}Successfully joined .*generation=1/)

    // 2. The second bot is refused.
    const refused = await oneShot()
    assert.equal(refused.code, 1, refused.stderr)
    const line = refused.stderr.split('\n').find((l) => l.startsWith('error ['))
    const pattern = new RegExp(
      `^error \\[ERR_ALREADY_EXISTS\\]: the bot storage directory ${storage} is in use by another bot process ` +
        `\\(host ${hostname()}, pid ${daemon.pid}, since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z, until \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\); ` +
        'give each bot its own storage$',
    )
    assert.match(line ?? '', pattern)
    assert.doesNotMatch(refused.stderr, /Successfully|Identity has expired/)

    // 3. The daemon still works: a reload signal renews it.
    const from = log.text.length
    daemon.kill('SIGHUP')
    await log.waitFor(/Successfully renewed bot identity .*generation=2/, from, DEADLINE_MS)

    // 4. A clean stop releases the lease; then the second bot runs on the same identity.
    daemon.kill('SIGTERM')
    const [code] = await exited
    daemon = undefined
    assert.equal(code, 0, log.text)
    assert.match(log.text, /INFO {2}released the lease on the bot storage/)
    const second = await oneShot()
    assert.equal(second.code, 0, second.stderr)
    assert.match(second.stderr, /Successfully renewed bot identity .*generation=3/)
    assert.match(second.stderr, /released the lease on the bot storage/)
    assert.deepEqual((await service.deps.resources.list('lock')).items, [])
  })
})
