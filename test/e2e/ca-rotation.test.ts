/**
 * A rotation of the user CA end to end (issue 9's acceptance): a bot in daemon mode, driven one
 * cycle per phase, writes an identity output to a directory; a real sshd and a real TLS server
 * trust exactly what `GET /v1/cas` publishes (sshd's TrustedUserCAKeys file is rewritten from
 * `ssh.user` and the TLS server restarted with `tls.user` before every check). At every phase the
 * bot's current output is accepted by both, and so is a certificate kept from an earlier phase
 * while the rotation lasts; once it is over, certificates from the retired key are refused. The
 * bot reissues on `update_clients`, `rollback` and `standby` only: the renewal interval (20m) is
 * far longer than the clock moves (a second per cycle), so the schedule alone renews nothing.
 */
import assert from 'node:assert/strict'
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { CycleResult } from '../../lib/bot/bot.ts'
import type { RotationPhase } from '../../lib/ca/rotation-phases.ts'
import {
  checkIdentitySet,
  type IdentitySetFacts,
  readSet,
  splitPems,
  trustOf,
} from '../helpers/identity-set.ts'
import { httpsGet, startMtlsServer } from '../helpers/mtls-server.ts'
import {
  type IdentityBot,
  identityBot,
  type RotationAuth,
  type SteppedDaemon,
  startRotationAuth,
  startSteppedDaemon,
} from '../helpers/rotation-world.ts'
import { currentUser, type Sshd, startSshd } from '../helpers/sshd.ts'

/** A credential kept on disk: what a client that copied the output at some phase still holds. */
interface Kept {
  readonly label: string
  readonly keyFile: string
  readonly certFile: string
  readonly tlsCert: string
  readonly key: string
}

/** What the two servers made of one credential. */
interface Verdict {
  readonly ssh: boolean
  readonly tls: boolean
  readonly detail: string
}

const OUTPUT = 'ssh'

describe('e2e: user CA rotation with a daemon bot, a real sshd and a real TLS server', {
  timeout: 300_000,
}, () => {
  let root: string
  let trustedCaFile: string
  let sshd: Sshd
  const user = currentUser()

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'credbroker-rotation-e2e-'))
    trustedCaFile = join(root, 'trusted_user_ca_keys')
    writeFileSync(trustedCaFile, '')
    sshd = await startSshd({ trustedUserCaKeysFile: trustedCaFile, principalsFor: { [user]: ['alice'] } })
  })

  after(async () => {
    await sshd?.stop()
    if (root) rmSync(root, { recursive: true, force: true })
  })

  /** One scenario's auth service, bot and daemon, and the checks every phase makes. */
  async function scenario(name: string) {
    const dir = join(root, name)
    mkdirSync(dir)
    const auth = await startRotationAuth()
    const bot = await identityBot(auth, { dir, outputs: [OUTPUT] })
    const daemon = await startSteppedDaemon(bot.deps, auth.clock)
    return new Scenario(dir, auth, bot, daemon)
  }

  class Scenario {
    readonly dir: string
    readonly auth: RotationAuth
    readonly bot: IdentityBot
    readonly daemon: SteppedDaemon
    readonly kept = new Map<string, Kept>()

    constructor(dir: string, auth: RotationAuth, bot: IdentityBot, daemon: SteppedDaemon) {
      this.dir = dir
      this.auth = auth
      this.bot = bot
      this.daemon = daemon
    }

    /** Steps the user CA, then lets the daemon run its next scheduled cycle. */
    async step(phase: RotationPhase): Promise<CycleResult> {
      const status = await this.auth.rotate(phase)
      assert.equal(status.phase, phase)
      return this.daemon.next()
    }

    /** The output as it is now: its set checked against what is published, and kept under `label`. */
    async current(label: string): Promise<IdentitySetFacts & { bundle: number; kept: Kept }> {
      const destination = this.bot.deps.destinations.get(OUTPUT)
      assert.ok(destination)
      const files = await readSet(destination)
      const facts = await checkIdentitySet(files, trustOf(await this.auth.published()))
      const kept = this.keep(label)
      return { ...facts, bundle: splitPems(files.get('credbroker-user-ca.crt') ?? '').length, kept }
    }

    /** Copies the output's key and certificates (what a consumer that read them holds). */
    keep(label: string): Kept {
      const from = join(this.dir, OUTPUT)
      const to = join(this.dir, `kept-${label}`)
      mkdirSync(to, { mode: 0o700 })
      for (const file of ['key', 'key-cert.pub', 'tlscert']) {
        copyFileSync(join(from, file), join(to, file))
      }
      const kept: Kept = {
        label,
        keyFile: join(to, 'key'),
        certFile: join(to, 'key-cert.pub'),
        tlsCert: readFileSync(join(to, 'tlscert'), 'utf8'),
        key: readFileSync(join(to, 'key'), 'utf8'),
      }
      this.kept.set(label, kept)
      return kept
    }

    keptAs(label: string): Kept {
      const kept = this.kept.get(label)
      assert.ok(kept, `nothing kept as ${label}`)
      return kept
    }

    /**
     * Makes both servers trust exactly what `/v1/cas` publishes now, then presents every
     * credential to both.
     */
    async judge(credentials: readonly Kept[]): Promise<Map<string, Verdict>> {
      const published = await this.auth.published()
      const next = join(this.dir, 'trusted_user_ca_keys.next')
      writeFileSync(next, `${published.ssh.user.join('\n')}\n`)
      renameSync(next, trustedCaFile) // sshd reads the file at every authentication
      const server = await startMtlsServer({
        serverCa: this.auth.service.deps.cas.host,
        clientCaPems: published.tls.user,
        respond: (peer) => ({ cn: peer.subject.CN }),
      })
      const verdicts = new Map<string, Verdict>()
      try {
        for (const cred of credentials) {
          const from = sshd.log().length
          const login = await sshd.tryLogin({
            user,
            keyFile: cred.keyFile,
            certFile: cred.certFile,
            command: 'printf %s rotated',
          })
          const ssh = login.ok && login.stdout === 'rotated'
          const refusals = server.refused.length
          const tls = await httpsGet(server.url, {
            cert: cred.tlsCert,
            key: cred.key,
            ca: published.tls.host.join(''),
          }).then(
            (r) => r.status === 200,
            () => false,
          )
          let detail = `ssh: ${login.stderr.trim()}`
          if (!ssh) detail += ` | sshd: ${sshd.log().slice(from).trim()}`
          if (!tls) detail += ` | tls: ${(await server.waitForRefusal(refusals)).authorizationError}`
          verdicts.set(cred.label, { ssh, tls, detail })
        }
      } finally {
        await server.close()
      }
      return verdicts
    }

    async expect(accepted: readonly Kept[], refused: readonly Kept[] = []): Promise<void> {
      const verdicts = await this.judge([...accepted, ...refused])
      for (const cred of accepted) {
        const v = verdicts.get(cred.label)
        assert.ok(v?.ssh, `sshd accepts ${cred.label}: ${v?.detail}`)
        assert.ok(v?.tls, `the TLS server accepts ${cred.label}: ${v?.detail}`)
      }
      for (const cred of refused) {
        const v = verdicts.get(cred.label)
        assert.equal(v?.ssh, false, `sshd refuses ${cred.label}`)
        assert.equal(v?.tls, false, `the TLS server refuses ${cred.label}`)
      }
    }

    /** Whether the cycle renewed the output or skipped it. */
    renewed(cycle: CycleResult): boolean {
      const renewed = cycle.outputs.some((o) => o.output === OUTPUT && o.ok)
      const skipped = cycle.skipped.includes(OUTPUT)
      assert.notEqual(renewed, skipped, 'the output is either renewed or skipped')
      return renewed
    }

    reissueLogs(): number {
      return this.bot.lines.filter((l) => l.includes('CA rotation: reissuing every output')).length
    }

    async close(): Promise<void> {
      await this.daemon.stop()
      await this.auth.close()
    }
  }

  it('ok/standby → init → update_clients → update_servers → standby: accepted at every phase, the old key refused after', async () => {
    const s = await scenario('full')
    try {
      // standby: the first cycle renewed everything, signed by the only key.
      assert.equal(s.renewed(s.daemon.first), true)
      const standby = await s.current('standby')
      assert.equal(standby.bundle, 1)
      await s.expect([standby.kept])
      const oldCa = { tls: standby.tlsIssuer, ssh: standby.sshSigningCa }

      // init: the new key is published (trusted) but does not sign; the bot does not reissue.
      const initCycle = await s.step('init')
      assert.equal(s.renewed(initCycle), false, 'init: no reissue')
      const published = await s.auth.published()
      assert.equal(published.ssh.user.length, 2)
      assert.equal(published.tls.user.length, 2)
      assert.equal(published.rotation?.user?.phase, 'init')
      const init = await s.current('init')
      assert.equal(init.tlsSerial, standby.tlsSerial, 'init: the output keeps its certificate')
      await s.expect([init.kept, s.keptAs('standby')])

      // update_clients: the new key signs; the bot reissues at once with the complete bundle.
      const clientsCycle = await s.step('update_clients')
      assert.equal(s.renewed(clientsCycle), true, 'update_clients: reissue')
      assert.equal(s.reissueLogs(), 1)
      const clients = await s.current('update_clients')
      assert.notEqual(clients.tlsSerial, init.tlsSerial)
      assert.notEqual(clients.tlsIssuer, oldCa.tls, 'signed by the new TLS key')
      assert.notEqual(clients.sshSigningCa, oldCa.ssh, 'signed by the new SSH key')
      assert.equal(clients.bundle, 2, 'the output carries both CA certificates')
      await s.expect([clients.kept, s.keptAs('init')])

      // update_servers: no reissue; every certificate so far still works.
      const serversCycle = await s.step('update_servers')
      assert.equal(s.renewed(serversCycle), false, 'update_servers: no reissue')
      const servers = await s.current('update_servers')
      assert.equal(servers.tlsSerial, clients.tlsSerial)
      await s.expect([servers.kept, s.keptAs('update_clients'), s.keptAs('standby')])

      // standby: the old key is gone; the bot reissues; old-key certificates are refused.
      const doneCycle = await s.step('standby')
      assert.equal(s.renewed(doneCycle), true, 'standby: reissue')
      assert.equal(s.reissueLogs(), 2)
      const done = await s.current('done')
      assert.notEqual(done.tlsSerial, servers.tlsSerial)
      assert.equal(done.tlsIssuer, clients.tlsIssuer)
      assert.equal(done.sshSigningCa, clients.sshSigningCa)
      assert.equal(done.bundle, 1, 'the output carries only the new CA certificate')
      const final = await s.auth.published()
      assert.equal(final.ssh.user.length, 1)
      assert.equal(final.tls.user.length, 1)
      await s.expect([done.kept, s.keptAs('update_servers')], [s.keptAs('standby'), s.keptAs('init')])
      // The bot's own identity survived the retirement: the next cycle authenticates and renews it.
      const afterwards = await s.daemon.next()
      assert.equal(s.renewed(afterwards), false, 'nothing left to reissue')
      assert.ok(
        s.daemon.sleeps.every((ms) => ms === 20 * 60_000),
        `every cycle slept one renewal interval: ${s.daemon.sleeps.join(',')}`,
      )
    } finally {
      await s.close()
    }
  })

  it('ok/init → update_clients → rollback → standby: accepted at every phase, the bot back on the old key', async () => {
    const s = await scenario('rollback')
    try {
      const standby = await s.current('standby')
      const oldCa = { tls: standby.tlsIssuer, ssh: standby.sshSigningCa }
      await s.expect([standby.kept])

      assert.equal(s.renewed(await s.step('init')), false, 'init: no reissue')
      const init = await s.current('init')
      await s.expect([init.kept, s.keptAs('standby')])

      assert.equal(s.renewed(await s.step('update_clients')), true, 'update_clients: reissue')
      const clients = await s.current('update_clients')
      assert.notEqual(clients.tlsIssuer, oldCa.tls)
      await s.expect([clients.kept, s.keptAs('init')])

      // rollback: the old key signs again; the bot reissues; the new-key certificate still works.
      assert.equal(s.renewed(await s.step('rollback')), true, 'rollback: reissue')
      const rollback = await s.current('rollback')
      assert.equal(rollback.tlsIssuer, oldCa.tls, 'rollback: signed by the old TLS key')
      assert.equal(rollback.sshSigningCa, oldCa.ssh, 'rollback: signed by the old SSH key')
      assert.equal(rollback.bundle, 2)
      await s.expect([rollback.kept, s.keptAs('update_clients')])

      // standby: the new key is gone; the bot is on the old key; new-key certificates are refused.
      assert.equal(s.renewed(await s.step('standby')), true, 'standby: reissue')
      const done = await s.current('done')
      assert.notEqual(done.tlsSerial, rollback.tlsSerial)
      assert.deepEqual({ tls: done.tlsIssuer, ssh: done.sshSigningCa }, oldCa, 'back on the old key')
      assert.equal(done.bundle, 1)
      const final = await s.auth.published()
      assert.equal(final.ssh.user.length, 1)
      assert.equal(final.tls.user.length, 1)
      assert.equal(
        final.rotation?.user?.tls,
        oldCa.tls.replaceAll(':', '').toLowerCase(),
        'the old key signs',
      )
      await s.expect([done.kept, s.keptAs('standby')], [s.keptAs('update_clients')])
      assert.equal(s.renewed(await s.daemon.next()), false, 'the bot keeps working on the old key')
    } finally {
      await s.close()
    }
  })
})
