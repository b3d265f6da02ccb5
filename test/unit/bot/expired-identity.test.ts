/**
 * The guide's "expired identity" symptom (issue 7, item 4): a token-joined bot whose renewable
 * identity expired cannot renew and its join token is used up. The bot logs the guide's line
 * with the expiry and the current time, sends nothing (a renewal would be refused, a join too),
 * locks nothing, and fails the cycle with an error that says how to recover. The recovery itself:
 * a new token (`bots instances add`) in the config. And when only the server's clock says the
 * identity expired, its proof-of-possession refusal comes back as the same error, still no lock.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { DirectoryDestination } from '../../../lib/adapters/directory/destination.ts'
import { MemoryDestination } from '../../../lib/adapters/memory/destination.ts'
import { addJoinToken } from '../../../lib/auth/bots.ts'
import { AuthClient } from '../../../lib/bot/auth-client.ts'
import { type BotDeps, runCycle } from '../../../lib/bot/bot.ts'
import { type BotConfig, validateBotConfig } from '../../../lib/bot/config.ts'
import { leaseBotStorage, withStorageLease } from '../../../lib/bot/lease-lifecycle.ts'
import { LEASE_ARTIFACT, parseLease } from '../../../lib/bot/lease-record.ts'
import { ExpiredIdentityError } from '../../../lib/bot/renew-identity.ts'
import { loadStoredIdentity } from '../../../lib/bot/renewal-storage.ts'
import { type Clock, ManualClock } from '../../../lib/clock.ts'
import { createLogger } from '../../../lib/log.ts'
import { type AuthHarness, authHarness, BASE_URL } from '../../helpers/auth-harness.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE

const recovery =
  'A token-joined bot with an expired identity needs a new join token: run ' +
  '`credbroker bots instances add example`, put the token in the bot config (onboarding.token), and ' +
  'restart the bot; it joins as a new bot instance'

describe('An expired bot identity', () => {
  let h: AuthHarness
  let dir: string
  let tokenFile: string
  beforeEach(async () => {
    h = await authHarness()
    dir = mkdtempSync(join(tmpdir(), 'credbroker-expired-'))
    tokenFile = join(dir, 'token')
    writeFileSync(tokenFile, `${(await addJoinToken(h.service.deps, 'example', 24 * HOUR)).token}\n`)
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  /** A one-shot bot with a directory storage and its lease, its token read from `tokenFile`. */
  function newBot(clock: Clock = h.clock) {
    const config: BotConfig = validateBotConfig(
      {
        version: 'v1',
        auth_server: 'http://127.0.0.1:3025',
        onboarding: { join_method: 'token', token: tokenFile },
        storage: { type: 'directory', path: join(dir, 'storage') },
        oneshot: true,
        outputs: [{ type: 'identity', name: 'ssh', roles: ['access'], destination: { type: 'memory' } }],
      },
      { baseDir: '/' },
    ).config
    const lines: string[] = []
    const requests: string[] = []
    const log = createLogger('debug', (line) => lines.push(line))
    const raw = new DirectoryDestination({ path: join(dir, 'storage'), clock })
    const { storage, lease } = leaseBotStorage(raw, config, { clock, log }, { sleep: async () => {} })
    const client = new AuthClient({
      baseUrl: BASE_URL,
      clock,
      fetch: (url, init) => {
        requests.push(new URL(url).pathname)
        return h.fetch(url, init)
      },
    })
    const deps: BotDeps = {
      config,
      client,
      storage,
      lease,
      destinations: new Map([['ssh', new MemoryDestination({ label: 'ssh' })]]),
      clock,
      log,
    }
    const run = () => withStorageLease(lease, log, () => runCycle(deps, { isStartup: true }))
    return { deps, raw, lines, requests, run }
  }

  const locks = async () => (await h.service.deps.resources.list('lock')).items

  it('fail/logs "Identity has expired. The renewal is likely to fail." with expires and current time, sends nothing, locks nothing, and says how to recover', async () => {
    // Prepare: joined and renewed once, then down for two hours.
    const bot = newBot()
    await bot.run()
    h.clock.advance(20 * MINUTE)
    const renewed = await bot.run()
    h.clock.advance(2 * HOUR)
    bot.lines.length = 0
    bot.requests.length = 0

    // Act
    const err = await bot.run().catch((e: unknown) => e)

    // Assess: the exact line, first, with both fields.
    const expires = renewed.identity.notAfter.toISOString()
    const now = h.clock.now().toISOString()
    assert.equal(
      bot.lines.find((l) => l.includes('Identity has expired')),
      `ERROR Identity has expired. The renewal is likely to fail. expires=${expires} current time=${now}`,
    )
    // No renewal (it would look like a stale copy to a server that did not check expiry first),
    // no join with the used token: not a single request.
    assert.deepEqual(bot.requests, [])
    assert.deepEqual(await locks(), [])
    // The error: stable code, class, facts, the recovery.
    assert.ok(err instanceof ExpiredIdentityError, String(err))
    assert.equal(err.code, 'ERR_UNAUTHENTICATED')
    assert.equal(err.status, 401)
    assert.equal(err.botName, 'example')
    assert.equal(err.expires.toISOString(), expires)
    assert.equal(err.now.toISOString(), now)
    assert.equal(
      err.message,
      `the bot identity expired at ${expires} (current time ${now}) and cannot be renewed. ${recovery}`,
    )
    // The storage is untouched but for the released lease.
    assert.equal((await loadStoredIdentity(bot.deps.storage))?.identity.generation, 2)
    assert.ok(parseLease((await bot.raw.read(LEASE_ARTIFACT)) ?? new Uint8Array())?.released_at)
  })

  it('fail/with no token at all (the token file removed), the same error and no request', async () => {
    const bot = newBot()
    await bot.run()
    unlinkSync(tokenFile)
    h.clock.advance(HOUR + MINUTE)
    bot.requests.length = 0

    await assert.rejects(bot.run(), (err: unknown) => {
      assert.ok(err instanceof ExpiredIdentityError)
      assert.ok(err.message.includes('`credbroker bots instances add example`'))
      return true
    })
    assert.deepEqual(bot.requests, [])
    assert.deepEqual(await locks(), [])
  })

  it('ok/the recovery: a token from `bots instances add` in the config joins as a new instance, no lock', async () => {
    const bot = newBot()
    const first = await bot.run()
    h.clock.advance(2 * HOUR)
    await assert.rejects(bot.run(), ExpiredIdentityError)

    writeFileSync(tokenFile, `${(await addJoinToken(h.service.deps, 'example')).token}\n`)
    const rejoined = await bot.run()

    assert.equal(rejoined.identity.generation, 1)
    assert.notEqual(rejoined.identity.botInstanceId, first.identity.botInstanceId)
    assert.equal(rejoined.outputs[0]?.ok, true)
    assert.deepEqual(await locks(), [])
  })

  it('fail/expired only by the server’s clock (this machine’s is behind): the PoP refusal becomes the same error, never a lock', async () => {
    // Prepare: joined; then the server's clock moves past notAfter, the bot's does not.
    const botClock = new ManualClock(h.clock.now())
    const bot = newBot(botClock)
    const joined = await bot.run()
    botClock.advance(30 * MINUTE)
    h.clock.advance(HOUR + MINUTE)
    bot.lines.length = 0

    // Act: the bot believes its identity valid and renews; the server refuses it as expired.
    const err = await bot.run().catch((e: unknown) => e)

    // Assess
    assert.ok(err instanceof ExpiredIdentityError, String(err))
    assert.equal(err.code, 'ERR_UNAUTHENTICATED')
    const expires = joined.identity.notAfter.toISOString()
    assert.equal(
      err.message,
      'the auth server refused the renewal because the bot identity has expired by its clock ' +
        `(expires ${expires}, this machine's time ${botClock.now().toISOString()}: check its clock). ${recovery}`,
    )
    assert.match(
      String((err.cause as Error).message),
      /proof of possession rejected: the certificate has expired/,
    )
    assert.ok(
      bot.lines.some((l) =>
        l.startsWith('ERROR The auth server refused the renewal: the bot identity has expired by its clock'),
      ),
    )
    assert.ok(bot.requests.includes('/v1/renew'))
    assert.deepEqual(await locks(), [])
    const instance = await h.service.deps.resources.get(
      'bot_instance',
      `example/${joined.identity.botInstanceId}`,
    )
    assert.equal(instance.status.generation, 1, 'nothing was committed')
  })
})
