/**
 * One bot cycle (`runCycle`) against an in-memory auth service: joining, renewing, writing each
 * output as one consistent set, per-output failures, and the troubleshooting guide's scenarios
 * (an expired identity with a used token, a new token to rejoin, a generation lock after the
 * bot's internal data was copied).
 */
import assert from 'node:assert/strict'
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto'
import { beforeEach, describe, it } from 'node:test'
import { MemoryDestination } from '../../../lib/adapters/memory/destination.ts'
import { addJoinToken } from '../../../lib/auth/bots.ts'
import type { IssueResponse } from '../../../lib/auth/issue-response.ts'
import { type BotDeps, type OutputResult, runCycle } from '../../../lib/bot/bot.ts'
import { type BotConfig, validateBotConfig } from '../../../lib/bot/config.ts'
import { SshReader } from '../../../lib/ca/ssh/wire.ts'
import { createLogger } from '../../../lib/log.ts'
import { type AuthHarness, authHarness } from '../../helpers/auth-harness.ts'

const HOUR = 3600_000
const IDENTITY_ARTIFACTS = [
  'credbroker-database-ca.crt',
  'credbroker-host-ca.crt',
  'credbroker-user-ca.crt',
  'key',
  'key-cert.pub',
  'key.pub',
  'known_hosts',
  'tlscert',
]
const LOCK_MESSAGE = (id: string) =>
  `The bot instance example/${id} has been locked due to a certificate generation mismatch, possibly indicating a stolen certificate.`

type RawOutput = { name: string; roles: string[] }

function botConfig(token: string, outputs: readonly RawOutput[]): BotConfig {
  return validateBotConfig(
    {
      version: 'v1',
      auth_server: 'http://127.0.0.1:3025',
      onboarding: { join_method: 'token', token },
      storage: { type: 'memory' },
      outputs: outputs.map((o) => ({ type: 'identity', ...o, destination: { type: 'memory' } })),
    },
    { baseDir: '/' },
  ).config
}

interface Bot {
  deps: BotDeps
  storage: MemoryDestination
  outputs: Map<string, MemoryDestination>
  lines: string[]
}

function newBot(
  h: AuthHarness,
  config: BotConfig,
  storage = new MemoryDestination({ label: 'storage' }),
): Bot {
  const lines: string[] = []
  const outputs = new Map(config.outputs.map((o) => [o.name, new MemoryDestination({ label: o.name })]))
  const deps: BotDeps = {
    config,
    client: h.client,
    storage,
    destinations: outputs,
    clock: h.clock,
    log: createLogger('debug', (line) => lines.push(line)),
  }
  return { deps, storage, outputs, lines }
}

/** The same bot, with another configuration (a new token), keeping its storage and log. */
function reconfigured(bot: Bot, config: BotConfig): Bot {
  return { ...bot, deps: { ...bot.deps, config } }
}

const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8')

async function artifacts(dest: MemoryDestination): Promise<Map<string, string>> {
  return new Map([...(await dest.readAll())].map(([name, value]) => [name, text(value)]))
}

type IssuedResult = Extract<OutputResult, { ok: true }> & { issued: IssueResponse }

/** A successful output with an impersonated issuance (every output type but ssh_host). */
function okResult(result: OutputResult | undefined): IssuedResult {
  assert.ok(result, 'no result for the output')
  assert.equal(result.ok, true, result.ok ? '' : `${result.code}: ${result.message}`)
  const ok = result as Extract<OutputResult, { ok: true }>
  assert.ok(ok.issued, 'the output has an issuance')
  assert.equal(ok.serial, ok.issued.serial)
  assert.equal(ok.notAfter, ok.issued.not_after)
  return ok as IssuedResult
}

/** The public key fields (curve, point) of an ECDSA `key.pub` line or `-cert.pub` line. */
function sshPublicPoint(line: string): { point: string; serial?: bigint } {
  const [type, blob] = line.trim().split(' ')
  const r = new SshReader(Buffer.from(blob ?? '', 'base64'))
  assert.equal(r.text(), type)
  if (type?.endsWith('-cert-v01@openssh.com')) {
    r.string() // nonce
    const point = `${r.text()}:${r.string().toString('hex')}`
    return { point, serial: r.uint64() }
  }
  return { point: `${r.text()}:${r.string().toString('hex')}` }
}

const spkiHex = (key: KeyObject) => key.export({ type: 'spki', format: 'der' }).toString('hex')

/** Every artifact of one output set belongs to one key and one issuance. */
function assertOneIssuance(files: Map<string, string>, serial: string): void {
  const key = createPrivateKey(files.get('key') as string)
  const cert = new X509Certificate(files.get('tlscert') as string)
  assert.equal(spkiHex(cert.publicKey), spkiHex(createPublicKey(key)), 'tlscert is not for key')
  assert.ok(cert.checkPrivateKey(key))
  assert.equal(cert.serialNumber.toLowerCase().replace(/^0+/, ''), serial.replace(/^0+/, ''))
  const pub = sshPublicPoint(files.get('key.pub') as string)
  const sshCert = sshPublicPoint(files.get('key-cert.pub') as string)
  assert.equal(sshCert.point, pub.point, 'key-cert.pub is not for key.pub')
  assert.equal(sshCert.serial, BigInt(`0x${serial.slice(0, 16)}`), 'the SSH and TLS certificates differ')
  assert.equal(pub.point, sshPointOfKey(key), 'key.pub is not the public half of key')
}

/** `nistp256:<Q hex>` of a P-256 key, derived independently of the bot's SSH encoder (via JWK). */
function sshPointOfKey(key: KeyObject): string {
  const jwk = createPublicKey(key).export({ format: 'jwk' })
  const x = Buffer.from(jwk.x as string, 'base64url')
  const y = Buffer.from(jwk.y as string, 'base64url')
  return `nistp256:${Buffer.concat([Buffer.from([4]), x, y]).toString('hex')}`
}

async function rejects(promise: Promise<unknown>, code: string, message: RegExp) {
  await assert.rejects(promise, (err: { code?: string; message: string }) => {
    assert.equal(err.code, code, err.message)
    assert.match(err.message, message)
    return true
  })
}

describe('Function: runCycle', () => {
  let h: AuthHarness
  let token: string
  beforeEach(async () => {
    h = await authHarness()
    // A long-lived token: when the bot later fails to rejoin, it is because the token was used.
    token = (await addJoinToken(h.service.deps, 'example', 24 * HOUR)).token
  })

  it('ok/the first cycle joins (generation 1) and writes the identity artifacts', async () => {
    const bot = newBot(h, botConfig(token, [{ name: 'ssh', roles: ['access'] }]))
    const result = await runCycle(bot.deps)
    assert.equal(result.identity.generation, 1)
    assert.match(result.identity.botInstanceId, /^[0-9a-f-]{36}$/)
    const ssh = okResult(result.outputs[0])
    assert.equal(ssh.destination, 'memory ssh')
    const files = await artifacts(bot.outputs.get('ssh') as MemoryDestination)
    assert.deepEqual([...files.keys()], IDENTITY_ARTIFACTS) // no ssh_config for memory destinations
    assert.equal(files.get('tlscert'), ssh.issued.tls_cert)
    assert.equal(files.get('key-cert.pub'), `${ssh.issued.ssh_cert}\n`)
    const cas = await h.client.cas()
    assert.equal(files.get('known_hosts'), cas.known_hosts)
    assert.equal(files.get('credbroker-user-ca.crt'), cas.tls.user.join(''))
    assert.equal(files.get('credbroker-host-ca.crt'), cas.tls.host.join(''))
    assert.equal(files.get('credbroker-database-ca.crt'), cas.tls.db.join(''))
    // The bot's own identity sits in its storage, never in an output.
    assert.deepEqual(
      [...(await bot.storage.readAll()).keys()],
      ['key', 'key-cert.pub', 'state.json', 'tlscert'],
    )
    assert.notEqual(files.get('key'), text(await bot.storage.read('key')))
    assert.ok(
      bot.lines.some((l) => /^INFO +Successfully joined .*generation=1$/.test(l)),
      bot.lines.join('\n'),
    )
  })

  it('ok/a second cycle renews: generation 2, same bot instance, fresh output credentials', async () => {
    const bot = newBot(h, botConfig(token, [{ name: 'ssh', roles: ['access'] }]))
    const first = await runCycle(bot.deps)
    const firstSerial = okResult(first.outputs[0]).issued.serial
    h.clock.advance(20 * 60_000)
    const second = await runCycle(bot.deps)
    assert.equal(second.identity.generation, 2)
    assert.equal(second.identity.botInstanceId, first.identity.botInstanceId)
    assert.notEqual(okResult(second.outputs[0]).issued.serial, firstSerial)
    const instance = await h.service.deps.resources.get(
      'bot_instance',
      `example/${first.identity.botInstanceId}`,
    )
    assert.equal(instance.status.generation, 2)
    assert.ok(bot.lines.some((l) => /^INFO +Successfully renewed bot identity .*generation=2$/.test(l)))
  })

  it('ok/an output set never mixes issuances: key, key.pub, key-cert.pub and tlscert agree', async () => {
    const bot = newBot(
      h,
      botConfig(token, [
        { name: 'ssh', roles: ['access'] },
        { name: 'db', roles: ['machine-id-db'] },
      ]),
    )
    const seen = new Set<string>()
    for (let cycle = 0; cycle < 2; cycle++) {
      const result = await runCycle(bot.deps)
      for (const [i, name] of ['ssh', 'db'].entries()) {
        const dest = bot.outputs.get(name) as MemoryDestination
        const issued = okResult(result.outputs[i]).issued
        assert.equal(dest.issuanceId, issued.serial)
        const files = await artifacts(dest)
        assertOneIssuance(files, issued.serial)
        seen.add(files.get('key') as string)
      }
      h.clock.advance(20 * 60_000)
    }
    assert.equal(seen.size, 4, 'every output of every cycle gets its own key')
    // The check itself notices a mixed set: db's certificate beside ssh's key.
    const ssh = await artifacts(bot.outputs.get('ssh') as MemoryDestination)
    const db = await artifacts(bot.outputs.get('db') as MemoryDestination)
    const mixed = new Map([...ssh, ['tlscert', db.get('tlscert') as string]])
    assert.throws(() =>
      assertOneIssuance(mixed, (bot.outputs.get('ssh') as MemoryDestination).issuanceId ?? ''),
    )
  })

  it('fail/an output whose roles are not allowed fails alone; the other output still succeeds', async () => {
    const bot = newBot(
      h,
      botConfig(token, [
        { name: 'admin', roles: ['admin'] },
        { name: 'ssh', roles: ['access'] },
      ]),
    )
    const result = await runCycle(bot.deps)
    const [admin, ssh] = result.outputs
    assert.deepEqual(admin, {
      output: 'admin',
      ok: false,
      destination: 'memory admin',
      code: 'ERR_ACCESS_DENIED',
      message: admin?.ok === false ? admin.message : '',
    })
    assert.match(admin?.ok === false ? admin.message : '', /^bot-example may not impersonate admin/)
    okResult(ssh)
    assert.equal((await (bot.outputs.get('admin') as MemoryDestination).readAll()).size, 0)
    assert.equal(
      (await (bot.outputs.get('ssh') as MemoryDestination).readAll()).size,
      IDENTITY_ARTIFACTS.length,
    )
    assert.ok(
      bot.lines.some((l) =>
        /^ERROR Failed to generate impersonated certs for memory admin: bot-example may not impersonate admin.* output=admin code=ERR_ACCESS_DENIED$/.test(
          l,
        ),
      ),
      bot.lines.join('\n'),
    )
  })

  it('ok/after each output renewal the log shows the window, duration, roles and principals (as in the guide)', async () => {
    const bot = newBot(h, botConfig(token, [{ name: 'ssh', roles: ['access'] }]))
    const result = await runCycle(bot.deps)
    const issued = okResult(result.outputs[0]).issued
    const line = bot.lines.find((l) => l.includes('Successfully renewed impersonated certificates'))
    assert.equal(
      line,
      `INFO  Successfully renewed impersonated certificates for memory ssh after=${issued.not_before} ` +
        `before=${issued.not_after} duration=1h1m0s kind=tls renewable=false disallow-reissue=true ` +
        'roles=[access] principals=[alice,credbroker] generation=0',
    )
  })

  it('fail/an expired identity with a used token: logs "Identity has expired" and throws ERR_UNAUTHENTICATED with the recovery', async () => {
    const bot = newBot(h, botConfig(token, [{ name: 'ssh', roles: ['access'] }]))
    const first = await runCycle(bot.deps)
    const expires = first.identity.notAfter.toISOString()
    h.clock.advance(HOUR + 60_000) // the bot was down past its identity's notAfter
    bot.lines.length = 0
    await rejects(
      runCycle(bot.deps),
      'ERR_UNAUTHENTICATED',
      /^the bot identity expired at .*run `credbroker bots instances add example`/,
    )
    assert.equal(
      bot.lines[0],
      `ERROR Identity has expired. The renewal is likely to fail. expires=${expires} ` +
        `current time=${h.clock.now().toISOString()}`,
    )
    // The outputs keep the last good set; nothing was written.
    assert.equal(
      (await (bot.outputs.get('ssh') as MemoryDestination).readAll()).size,
      IDENTITY_ARTIFACTS.length,
    )
  })

  it('ok/a new token (bots instances add) in the config rejoins as a new instance, discarding the stored identity', async () => {
    const bot = newBot(h, botConfig(token, [{ name: 'ssh', roles: ['access'] }]))
    const first = await runCycle(bot.deps)
    h.clock.advance(2 * HOUR)
    await rejects(runCycle(bot.deps), 'ERR_UNAUTHENTICATED', /bots instances add example/)

    const fresh = await addJoinToken(h.service.deps, 'example')
    const rejoined = reconfigured(bot, botConfig(fresh.token, [{ name: 'ssh', roles: ['access'] }]))
    bot.lines.length = 0
    const result = await runCycle(rejoined.deps)
    assert.equal(result.identity.generation, 1)
    assert.notEqual(result.identity.botInstanceId, first.identity.botInstanceId)
    okResult(result.outputs[0])
    assert.match(
      bot.lines[0] ?? '',
      /^INFO +the onboarding token changed: discarding the stored identity and joining again$/,
    )
    assert.ok(!bot.lines.some((l) => l.includes('Identity has expired')))
    // And it renews normally afterwards.
    h.clock.advance(20 * 60_000)
    assert.equal((await runCycle(rejoined.deps)).identity.generation, 2)
  })

  it('ok/a new token replaces even a still-valid stored identity', async () => {
    const bot = newBot(h, botConfig(token, []))
    const first = await runCycle(bot.deps)
    const fresh = await addJoinToken(h.service.deps, 'example')
    const result = await runCycle(reconfigured(bot, botConfig(fresh.token, [])).deps)
    assert.notEqual(result.identity.botInstanceId, first.identity.botInstanceId)
    assert.equal(result.identity.generation, 1)
  })

  describe('generation lock (the guide: internal data shared between two bots)', () => {
    it('fail/a copy of the storage renews after the original: ERR_ACCESS_DENIED and a lock on the instance', async () => {
      // Prepare: bot A joins; its internal data directory is copied to bot B.
      const config = botConfig(token, [{ name: 'ssh', roles: ['access'] }])
      const a = newBot(h, config)
      const joined = await runCycle(a.deps)
      const id = joined.identity.botInstanceId
      const copied = new MemoryDestination({ label: 'storage-copy' })
      await copied.write(await a.storage.readAll())
      const b = newBot(h, config, copied)

      // Act: both renew, A first.
      h.clock.advance(20 * 60_000)
      assert.equal((await runCycle(a.deps)).identity.generation, 2)
      await rejects(
        runCycle(b.deps),
        'ERR_ACCESS_DENIED',
        new RegExp(`^renewable cert generation mismatch for bot example/${id}: stored=2, presented=1$`),
      )

      // Assess: the instance is locked with the guide's message, for both holders.
      const locks = await h.service.deps.resources.list('lock')
      assert.equal(locks.items.length, 1)
      assert.deepEqual(locks.items[0]?.spec, {
        target: { bot_instance: `example/${id}` },
        message: LOCK_MESSAGE(id),
      })
      const inForce = `lock targeting bot instance "example/${id}" is in force: ${LOCK_MESSAGE(id)}`
      h.clock.advance(20 * 60_000)
      for (const bot of [a, b]) {
        await assert.rejects(runCycle(bot.deps), (err: { code?: string; message: string }) => {
          assert.equal(err.code, 'ERR_ACCESS_DENIED')
          assert.equal(err.message, inForce)
          return true
        })
      }
      // Outputs written before the lock stay in place (they are not revoked).
      assert.equal(
        (await (a.outputs.get('ssh') as MemoryDestination).readAll()).size,
        IDENTITY_ARTIFACTS.length,
      )
      assert.equal((await (b.outputs.get('ssh') as MemoryDestination).readAll()).size, 0)

      // Recovery: a new token gives A a new instance that the old lock does not target.
      const fresh = await addJoinToken(h.service.deps, 'example')
      const recovered = await runCycle(
        reconfigured(
          a,
          botConfig(
            fresh.token,
            config.outputs.map((o) => ({ name: o.name, roles: [...o.roles] })),
          ),
        ).deps,
      )
      assert.notEqual(recovered.identity.botInstanceId, id)
      assert.equal(recovered.identity.generation, 1)
      okResult(recovered.outputs[0])
    })
  })
})
