/**
 * The bot's half of crash-safe renewal (lib/bot/renew-identity.ts, renewal-storage.ts), in
 * process: a pending renewal (new key, request id) saved before the request and dropped with the
 * result; a lost answer, a failed save and a "crash" (a hook that throws, after which only the
 * storage survives) at every step, each followed by a restart that finishes the renewal without
 * a lock. The same with real processes and SIGKILL is test/e2e/renew-crash.test.ts.
 */
import assert from 'node:assert/strict'
import { createPrivateKey } from 'node:crypto'
import { beforeEach, describe, it } from 'node:test'
import { MemoryDestination } from '../../../lib/adapters/memory/destination.ts'
import { addJoinToken } from '../../../lib/auth/bots.ts'
import { AuthClient } from '../../../lib/bot/auth-client.ts'
import { type BotIdentityDeps, refreshBotIdentity } from '../../../lib/bot/bot-identity.ts'
import { validateBotConfig } from '../../../lib/bot/config.ts'
import type { RenewalStep } from '../../../lib/bot/renew-identity.ts'
import { certifiesKey, loadStoredIdentity } from '../../../lib/bot/renewal-storage.ts'
import { createLogger } from '../../../lib/log.ts'
import type { ArtifactContent, Destination, WriteMeta, WriteResult } from '../../../lib/ports/destination.ts'
import { type AuthHarness, authHarness, BASE_URL } from '../../helpers/auth-harness.ts'

const IDENTITY = ['key', 'key-cert.pub', 'state.json', 'tlscert']
const WITH_PENDING = [
  'key',
  'key-cert.pub',
  'pending-renewal.json',
  'pending-renewal.key',
  'state.json',
  'tlscert',
]

class Crash extends Error {}

/** A destination that records the names of every set written and can fail chosen writes. */
class RecordingDestination implements Destination {
  readonly inner = new MemoryDestination({ label: 'storage' })
  readonly writes: string[][] = []
  failNext: ((names: string[]) => boolean) | undefined

  async write(artifacts: ReadonlyMap<string, ArtifactContent>, meta?: WriteMeta): Promise<WriteResult> {
    const names = [...artifacts.keys()].sort()
    if (this.failNext?.(names)) {
      this.failNext = undefined
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    }
    this.writes.push(names)
    return this.inner.write(artifacts, meta)
  }
  read(name: string) {
    return this.inner.read(name)
  }
  readAll() {
    return this.inner.readAll()
  }
  describe() {
    return this.inner.describe()
  }
}

interface TestBot {
  readonly deps: BotIdentityDeps
  readonly storage: RecordingDestination
  readonly lines: string[]
  /** Request ids of every `/v1/renew` sent. */
  readonly sent: string[]
  /** The answer of the next `/v1/renew` is lost after the server handled it. */
  loseNextAnswer(): void
  crashAt(step: RenewalStep | undefined): void
}

async function newBot(h: AuthHarness): Promise<TestBot> {
  const { token } = await addJoinToken(h.service.deps, 'example', 24 * 3600_000)
  const { config } = validateBotConfig(
    {
      version: 'v1',
      auth_server: 'http://127.0.0.1:3025', // unused: the client below goes to the harness
      onboarding: { join_method: 'token', token },
      storage: { type: 'memory' },
      outputs: [],
    },
    { baseDir: '/' },
  )
  const sent: string[] = []
  let lose = false
  let crashStep: RenewalStep | undefined
  const client = new AuthClient({
    baseUrl: BASE_URL,
    clock: h.clock,
    fetch: async (url, init) => {
      const response = await h.fetch(url, init)
      if (url.endsWith('/v1/renew')) {
        sent.push((JSON.parse(String(init?.body)) as { request_id: string }).request_id)
        if (lose) {
          lose = false
          throw new TypeError('fetch failed') // the server committed; the answer never arrives
        }
      }
      return response
    },
  })
  const storage = new RecordingDestination()
  const lines: string[] = []
  const deps: BotIdentityDeps = {
    config,
    client,
    storage,
    clock: h.clock,
    log: createLogger('debug', (line) => lines.push(line)),
    renewalHooks: {
      at: (step) => {
        if (step === crashStep) {
          crashStep = undefined
          throw new Crash(step)
        }
      },
    },
  }
  return {
    deps,
    storage,
    lines,
    sent,
    loseNextAnswer: () => {
      lose = true
    },
    crashAt: (step) => {
      crashStep = step
    },
  }
}

describe('Function: refreshBotIdentity (renewal)', () => {
  let h: AuthHarness
  let bot: TestBot
  beforeEach(async () => {
    h = await authHarness()
    bot = await newBot(h)
    await refreshBotIdentity(bot.deps) // joins: generation 1
    bot.storage.writes.length = 0
  })

  const locks = async () => (await h.service.deps.resources.list('lock')).items
  const instanceOf = async (id: string) => h.service.deps.resources.get('bot_instance', `example/${id}`)

  it('ok/the pending renewal (key, request id) is saved before the request and dropped with the result', async () => {
    // Prepare: stop right before the request to look at the storage.
    bot.crashAt('before-request')
    await assert.rejects(refreshBotIdentity(bot.deps), Crash)
    const pending = await loadStoredIdentity(bot.storage)
    assert.ok(pending?.pending)
    assert.equal(pending.identity.generation, 1)
    assert.deepEqual(bot.sent, [], 'nothing was sent yet')
    assert.match(pending.pending.file.request_id, /^[0-9a-f]{32}$/)
    assert.equal(pending.pending.file.generation, 1)

    // Act: the restart sends the saved renewal.
    const renewed = await refreshBotIdentity(bot.deps)

    // Assess
    assert.deepEqual(bot.storage.writes, [WITH_PENDING, IDENTITY])
    assert.deepEqual(bot.sent, [pending.pending.file.request_id])
    assert.equal(renewed.generation, 2)
    const stored = await loadStoredIdentity(bot.storage)
    assert.equal(stored?.pending, undefined)
    assert.ok(
      certifiesKey(renewed.tlsCertPem, createPrivateKey(pending.pending.keyPem)),
      'the saved key was certified',
    )
    assert.ok(
      bot.lines.some((l) => /^INFO +Resuming an unfinished renewal of the bot identity request_id=/.test(l)),
    )
  })

  it('ok/a lost answer: the restart retries the same request and gets the same generation, no lock', async () => {
    bot.loseNextAnswer()
    await assert.rejects(refreshBotIdentity(bot.deps), { code: 'ERR_UPSTREAM_UNAVAILABLE' })
    const before = await loadStoredIdentity(bot.storage)
    assert.equal(before?.identity.generation, 1)
    assert.equal(
      (await instanceOf(before?.state.bot_instance_id ?? '')).status.generation,
      2,
      'the server moved on',
    )

    const renewed = await refreshBotIdentity(bot.deps)

    assert.equal(renewed.generation, 2)
    assert.equal(bot.sent.length, 2)
    assert.equal(bot.sent[0], bot.sent[1], 'the retry is the same request')
    assert.deepEqual(await locks(), [])
    h.clock.advance(20 * 60_000)
    assert.equal((await refreshBotIdentity(bot.deps)).generation, 3)
  })

  it('ok/saving the renewed identity fails (the guide: "fails to save its freshly renewed certificates"): the next cycle collects it, no lock', async () => {
    bot.storage.failNext = (names) => names.join() === IDENTITY.join()
    await assert.rejects(refreshBotIdentity(bot.deps), { code: 'ENOSPC' })
    assert.ok((await loadStoredIdentity(bot.storage))?.pending, 'the pending renewal is still there')

    const renewed = await refreshBotIdentity(bot.deps)

    assert.equal(renewed.generation, 2)
    assert.deepEqual(await locks(), [])
    assert.deepEqual([...(await bot.storage.readAll()).keys()], IDENTITY)
  })

  it('ok/saving the pending renewal fails: nothing was sent, and the next cycle starts afresh', async () => {
    bot.storage.failNext = (names) => names.includes('pending-renewal.json')
    await assert.rejects(refreshBotIdentity(bot.deps), { code: 'ENOSPC' })
    assert.deepEqual(bot.sent, [])
    assert.equal((await refreshBotIdentity(bot.deps)).generation, 2)
    assert.equal(bot.sent.length, 1)
  })

  for (const step of ['before-pending', 'before-request', 'after-response', 'after-persist'] as const) {
    it(`ok/a crash at ${step}, then a restart: renewal carries on, never a lock`, async () => {
      bot.crashAt(step)
      await assert.rejects(refreshBotIdentity(bot.deps), Crash)
      const restarted = await refreshBotIdentity(bot.deps)
      // Crashes after the commit find generation 2 done (after-persist) or collect it (after-response).
      const expected = step === 'after-persist' ? 3 : 2
      assert.equal(restarted.generation, expected)
      assert.equal((await instanceOf(restarted.botInstanceId)).status.generation, expected)
      assert.deepEqual(await locks(), [])
      assert.deepEqual([...(await bot.storage.readAll()).keys()], IDENTITY)
    })
  }

  it('fail/a lost answer and then the identity expires: the guide\'s "Identity has expired", no lock', async () => {
    bot.loseNextAnswer()
    await assert.rejects(refreshBotIdentity(bot.deps), { code: 'ERR_UPSTREAM_UNAVAILABLE' })
    const stored = await loadStoredIdentity(bot.storage)
    h.clock.advance(2 * 3600_000)
    bot.lines.length = 0

    // The join token was used by the first join: nothing more can be done without a new one.
    await assert.rejects(refreshBotIdentity(bot.deps), { code: 'ERR_UNAUTHENTICATED' })

    assert.equal(
      bot.lines[0],
      `ERROR Identity has expired. The renewal is likely to fail. expires=${stored?.identity.notAfter.toISOString()} ` +
        `current time=${h.clock.now().toISOString()}`,
    )
    assert.equal(
      bot.lines[1],
      `WARN  An unfinished renewal of the expired identity cannot be completed request_id=${stored?.pending?.file.request_id} generation=1`,
    )
    assert.deepEqual(await locks(), [])
  })
})
