/**
 * The core loop end to end, over real sockets on 127.0.0.1: an auth service, a bot that joins
 * with a one-time token and writes an identity output to a directory, then real consumers:
 * `openssl verify`, `ssh-keygen -L`, and a real sshd that accepts the certificate for a login
 * the roles allow and refuses one they don't (the guide's "unable to authenticate" case).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { serve } from '@hono/node-server'
import { MemoryKeyStore } from '../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../lib/adapters/memory/store.ts'
import { addJoinToken } from '../../lib/auth/bots.ts'
import { createAuthService } from '../../lib/auth/service.ts'
import { AuthClient } from '../../lib/bot/auth-client.ts'
import { type CycleResult, runCycle } from '../../lib/bot/bot.ts'
import { validateBotConfig } from '../../lib/bot/config.ts'
import { openBotDestinations } from '../../lib/bot/destinations.ts'
import { loadDocuments } from '../../lib/cli/load-documents.ts'
import { systemClock } from '../../lib/clock.ts'
import { silentLogger } from '../../lib/log.ts'
import { cryptoRandom } from '../../lib/random.ts'
import { applyResources } from '../../lib/services/apply.ts'
import { opensslVerify } from '../helpers/openssl.ts'
import { currentUser, type Sshd, sshKeygenList, startSshd } from '../helpers/sshd.ts'

describe('e2e: bot identity output accepted by real consumers', () => {
  let dir: string
  let out: string
  let cycle: CycleResult
  let userCaKey: string
  let close: () => void
  const sshds: Sshd[] = []

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credbroker-e2e-'))
    out = join(dir, 'out')
    const store = new MemoryStore()
    const service = await createAuthService({
      clusterName: 'e2e.local',
      publicAddr: 'http://127.0.0.1',
      store,
      keys: new MemoryKeyStore(),
      clock: systemClock,
      random: cryptoRandom,
      log: silentLogger,
    })
    await applyResources(service.deps.resources, loadDocuments(resolve('examples/cluster')))
    userCaKey = service.deps.cas.user.trustedSshKeys[0] as string
    const server = serve({ fetch: service.app.fetch, hostname: '127.0.0.1', port: 0 })
    await new Promise((ok) => server.once('listening', ok))
    const address = server.address() as { port: number }
    close = () => server.close()
    const { token } = await addJoinToken(service.deps, 'example')
    const { config } = validateBotConfig(
      {
        version: 'v1',
        auth_server: `http://127.0.0.1:${address.port}`,
        onboarding: { join_method: 'token', token },
        storage: { type: 'memory' },
        outputs: [
          { type: 'identity', name: 'ssh', roles: ['access'], destination: { type: 'directory', path: out } },
        ],
      },
      { baseDir: dir },
    )
    const { storage, destinations } = openBotDestinations(config, systemClock)
    const client = new AuthClient({ baseUrl: config.authServer })
    cycle = await runCycle({ config, client, storage, destinations, clock: systemClock, log: silentLogger })
  })

  after(async () => {
    for (const sshd of sshds) await sshd.stop()
    close?.()
    rmSync(dir, { recursive: true, force: true })
  })

  it('writes every identity artifact', () => {
    assert.equal(cycle.outputs[0]?.ok, true)
    for (const name of [
      'key',
      'key.pub',
      'key-cert.pub',
      'tlscert',
      'credbroker-user-ca.crt',
      'known_hosts',
      'ssh_config',
    ]) {
      assert.ok(readFileSync(join(out, name), 'utf8').length > 0, name)
    }
    assert.match(
      readFileSync(join(out, 'known_hosts'), 'utf8'),
      /^@cert-authority e2e\.local,\*\.e2e\.local ssh-ed25519 /,
    )
  })

  it('openssl verify accepts the TLS certificate against the written CA bundle', async () => {
    const result = await opensslVerify({
      caPems: [readFileSync(join(out, 'credbroker-user-ca.crt'), 'utf8')],
      leafPem: readFileSync(join(out, 'tlscert'), 'utf8'),
      purpose: 'sslclient',
    })
    assert.equal(result.ok, true, result.output)
  })

  it('ssh-keygen -L shows the principals, validity and identity extensions', async () => {
    const listing = await sshKeygenList(readFileSync(join(out, 'key-cert.pub'), 'utf8').trim())
    assert.match(listing, /Key ID: "bot-example"/)
    assert.match(listing, /Principals: \n\s+alice\n\s+credbroker\n/)
    assert.match(listing, /disallow-reissue@credbroker/)
    assert.match(listing, /impersonator@credbroker/)
    assert.match(listing, /permit-pty/)
    const valid = /Valid: from (\S+) to (\S+)/.exec(listing)
    assert.ok(valid)
    const span = Date.parse(`${valid[2]}Z`) - Date.parse(`${valid[1]}Z`)
    assert.ok(span > 59 * 60_000 && span <= 61 * 60_000, `validity ${span} ms`)
  })

  it('a real sshd accepts a login the roles allow (alice)', async () => {
    const sshd = await startSshd({
      trustedUserCaKeys: [userCaKey],
      principalsFor: { [currentUser()]: ['alice'] },
    })
    sshds.push(sshd)
    const result = await sshd.tryLogin({
      user: currentUser(),
      keyFile: join(out, 'key'),
      certFile: join(out, 'key-cert.pub'),
    })
    assert.equal(result.ok, true, result.stderr)
    assert.equal(result.stdout.trim(), 'ok')
  })

  it('a real sshd refuses a login the roles do not allow (bob): unable to authenticate', async () => {
    const sshd = await startSshd({
      trustedUserCaKeys: [userCaKey],
      principalsFor: { [currentUser()]: ['bob'] },
    })
    sshds.push(sshd)
    const result = await sshd.tryLogin({
      user: currentUser(),
      keyFile: join(out, 'key'),
      certFile: join(out, 'key-cert.pub'),
    })
    assert.equal(result.ok, false)
    assert.match(result.stderr, /Permission denied/)
  })
})
