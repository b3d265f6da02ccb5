/**
 * The troubleshooting guide's first scenario, prevented: two bots configured with one internal
 * storage. Whole bots (runCycle, runDaemon, wired with `leaseBotStorage` and `withStorageLease`
 * as the CLI wires them) against an in-memory auth service, two in one process, each with its own
 * adapter instance, host and pid, sharing the harness's clock. Each case runs on a directory
 * storage and on a Secrets Manager-typed storage backed by one shared memory destination.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { DirectoryDestination } from '../../../lib/adapters/directory/destination.ts'
import { MemoryDestination } from '../../../lib/adapters/memory/destination.ts'
import { addJoinToken } from '../../../lib/auth/bots.ts'
import { AuthClient } from '../../../lib/bot/auth-client.ts'
import { type BotDeps, type CycleResult, runCycle } from '../../../lib/bot/bot.ts'
import { type BotConfig, validateBotConfig } from '../../../lib/bot/config.ts'
import { runDaemon } from '../../../lib/bot/daemon.ts'
import { StorageInUseError } from '../../../lib/bot/lease-error.ts'
import { leaseBotStorage, withStorageLease } from '../../../lib/bot/lease-lifecycle.ts'
import { LEASE_ARTIFACT, type LeaseRecord, parseLease } from '../../../lib/bot/lease-record.ts'
import type { StorageLease } from '../../../lib/bot/leased-storage.ts'
import { createLogger } from '../../../lib/log.ts'
import type { Destination } from '../../../lib/ports/destination.ts'
import { sequenceRandom } from '../../../lib/random.ts'
import { type AuthHarness, authHarness, BASE_URL } from '../../helpers/auth-harness.ts'

const MINUTE = 60_000
const INTERVAL = 20 * MINUTE

interface Shared {
  readonly storageConfig: Record<string, unknown>
  /** One process's adapter on the shared storage. */
  readonly open: () => Destination
  readonly cleanUp: () => void
}

const BACKENDS: readonly { name: string; make: (h: AuthHarness) => Shared }[] = [
  {
    name: 'directory storage',
    make: (h) => {
      const dir = mkdtempSync(join(tmpdir(), 'credbroker-bot-lease-'))
      return {
        storageConfig: { type: 'directory', path: dir },
        open: () => new DirectoryDestination({ path: dir, clock: h.clock }),
        cleanUp: () => rmSync(dir, { recursive: true, force: true }),
      }
    },
  },
  {
    name: 'Secrets Manager storage (stand-in: one shared memory destination)',
    make: () => {
      const secret = new MemoryDestination({ label: 'credbroker/bot-storage' })
      return {
        storageConfig: { type: 'aws_secrets_manager', name: 'credbroker/bot-storage', region: 'eu-west-1' },
        open: () => secret,
        cleanUp: () => {},
      }
    },
  },
]

interface TestBot {
  readonly deps: BotDeps & { readonly lease: StorageLease }
  readonly lines: string[]
  /** Requests this bot sent to the auth service. */
  readonly requests: string[]
  setDown(down: boolean): void
}

const inUseMessage = (where: string, holder: LeaseRecord) =>
  `the bot storage ${where} is in use by another bot process (host ${holder.host}, pid ${holder.pid}, ` +
  `since ${holder.acquired_at}, until ${holder.expires_at}); give each bot its own storage`

for (const { name, make } of BACKENDS) {
  describe(`Two bots on one ${name}`, () => {
    let h: AuthHarness
    let shared: Shared
    let token: string
    beforeEach(async () => {
      h = await authHarness()
      shared = make(h)
      token = (await addJoinToken(h.service.deps, 'example', 24 * 60 * MINUTE)).token
    })
    afterEach(() => shared.cleanUp())

    /** A bot process with the shared configuration: same token, same storage. */
    function newBot(pid: number, oneshot = false): TestBot {
      const config: BotConfig = validateBotConfig(
        {
          version: 'v1',
          auth_server: 'http://127.0.0.1:3025',
          onboarding: { join_method: 'token', token },
          storage: shared.storageConfig,
          oneshot,
          outputs: [{ type: 'identity', name: 'ssh', roles: ['access'], destination: { type: 'memory' } }],
        },
        { baseDir: '/' },
      ).config
      const lines: string[] = []
      const requests: string[] = []
      let down = false
      const log = createLogger('debug', (line) => lines.push(line))
      const { storage, lease } = leaseBotStorage(
        shared.open(),
        config,
        { clock: h.clock, log },
        { host: `host-${pid}`, pid, random: sequenceRandom(pid), sleep: async () => {} },
      )
      assert.ok(lease, 'a shareable storage gets a lease')
      const client = new AuthClient({
        baseUrl: BASE_URL,
        clock: h.clock,
        fetch: (url, init) => {
          requests.push(new URL(url).pathname)
          return down ? Promise.reject(new TypeError('fetch failed')) : h.fetch(url, init)
        },
      })
      return {
        deps: {
          config,
          client,
          storage,
          lease,
          destinations: new Map([['ssh', new MemoryDestination({ label: 'ssh' })]]),
          clock: h.clock,
          log,
        },
        lines,
        requests,
        setDown: (value) => {
          down = value
        },
      }
    }

    /** A one-shot run as the CLI does it: take the lease, one cycle, release. */
    const oneShot = (bot: TestBot) =>
      withStorageLease(bot.deps.lease, bot.deps.log, () => runCycle(bot.deps, { isStartup: true }))

    /**
     * A daemon as the CLI runs it, its lease held around the loop; `between[i]` runs in the sleep
     * after cycle i+1 (after the clock moved by the wait); the daemon stops after the last.
     */
    async function daemon(bot: TestBot, between: readonly (() => Promise<void>)[]) {
      const controller = new AbortController()
      const results: (CycleResult | Error)[] = []
      const run = withStorageLease(bot.deps.lease, bot.deps.log, () =>
        runDaemon(bot.deps, {
          signal: controller.signal,
          wake: () => new Promise<void>(() => {}),
          sleep: async (ms) => {
            h.clock.advance(Math.round(ms))
            await between[results.length - 1]?.()
          },
          random: () => 0.5,
          onCycle: (result) => {
            results.push(result)
            if (results.length > between.length) controller.abort()
          },
        }),
      )
      return { run, results }
    }

    const storedLease = async () => {
      const bytes = await shared.open().read(LEASE_ARTIFACT)
      return bytes && parseLease(bytes)
    }
    const locks = async () => (await h.service.deps.resources.list('lock')).items
    const generations = (results: readonly (CycleResult | Error)[]) =>
      results.map((r) => (r instanceof Error ? r.message : r.identity.generation))

    it('fail/the second bot refuses to start with ERR_ALREADY_EXISTS and the message; the first keeps renewing, never locked', async () => {
      // Prepare
      const first = newBot(101)
      const second = newBot(202, true)
      let refused: unknown

      // Act: the second starts while the first runs (between the first's cycles 1 and 2).
      const { run, results } = await daemon(first, [
        async () => {
          refused = await oneShot(second).catch((err: unknown) => err)
        },
        async () => {},
      ])
      await run

      // Assess: the refusal names the holder and sent nothing to the auth service.
      assert.ok(refused instanceof StorageInUseError, String(refused))
      assert.equal(refused.code, 'ERR_ALREADY_EXISTS')
      assert.equal(refused.holder?.pid, 101)
      assert.equal(refused.holder?.host, 'host-101')
      assert.equal(refused.message, inUseMessage(second.deps.storage.describe(), refused.holder))
      assert.deepEqual(second.requests, [])
      // The first renewed every cycle: same instance, generations 1..3, nothing locked.
      assert.deepEqual(generations(results), [1, 2, 3])
      assert.deepEqual(await locks(), [])

      // Act 2: the first stopped cleanly (the lease is released): now the second starts.
      assert.ok((await storedLease())?.released_at)
      const later = await oneShot(second)

      // Assess 2: it carries on the same identity (generation 4), still no lock.
      const last = results.at(-1) as CycleResult
      assert.equal(later.identity.generation, 4)
      assert.equal(later.identity.botInstanceId, last.identity.botInstanceId)
      assert.equal(later.outputs[0]?.ok, true)
      assert.deepEqual(await locks(), [])
      assert.ok((await storedLease())?.released_at, 'the one-shot run released it too')
    })

    it('ok/after the first crashes (lease left), the second is refused until the lease expires, then takes over', async () => {
      // Prepare: the first takes the lease, renews once, and dies without releasing it.
      const crashed = newBot(101)
      await crashed.deps.lease.acquire()
      await runCycle(crashed.deps)
      h.clock.advance(MINUTE)
      const renewed = await runCycle(crashed.deps)
      const second = newBot(202, true)

      // Act + Assess: refused just before the daemon lease (two intervals) expires…
      h.clock.advance(2 * INTERVAL - 1)
      await assert.rejects(oneShot(second), { code: 'ERR_ALREADY_EXISTS' })
      // … taken over at its expiry, renewing the same instance: no lock.
      h.clock.advance(1)
      const result = await oneShot(second)
      assert.equal(result.identity.generation, renewed.identity.generation + 1)
      assert.equal(result.identity.botInstanceId, renewed.identity.botInstanceId)
      assert.deepEqual(await locks(), [])
      assert.ok(
        second.lines.some((l) =>
          /^WARN {2}taking over a lease on the bot storage that expired without being released .*host=host-101 pid=101/.test(
            l,
          ),
        ),
        second.lines.join('\n'),
      )
    })

    it('ok/the lease survives renewals: after every daemon cycle it is still the first’s, extended', async () => {
      const bot = newBot(101)
      const seen: { lease: LeaseRecord | undefined; at: number }[] = []
      const look = async () => {
        seen.push({ lease: await storedLease(), at: h.clock.now().getTime() })
      }
      const { run, results } = await daemon(bot, [look, look, look, look])
      await run
      assert.deepEqual(generations(results), [1, 2, 3, 4, 5])
      const acquiredAt = seen[0]?.lease?.acquired_at
      for (const { lease, at } of seen) {
        assert.equal(lease?.pid, 101)
        assert.equal(lease?.acquired_at, acquiredAt)
        // Extended by the cycle's renewal write, an interval (the wait) before the look.
        assert.equal(Date.parse(lease?.expires_at ?? ''), at - INTERVAL + 2 * INTERVAL)
      }
      assert.ok(!seen.some((l) => l.lease?.released_at))
    })

    it('fail/a daemon whose lease lapsed while it was suspended, and was taken, stops at its next cycle; nothing locked', async () => {
      const first = newBot(101)
      const second = newBot(202)
      let secondResult: CycleResult | undefined
      const { run, results } = await daemon(first, [
        async () => {
          // Suspended: its lease (written at the join, 20 min ago) lapses; the identity is still valid.
          h.clock.advance(INTERVAL + 1)
          await second.deps.lease.acquire()
          secondResult = await runCycle(second.deps)
        },
        async () => {},
      ])

      await assert.rejects(run, (err: unknown) => {
        assert.ok(err instanceof StorageInUseError)
        assert.equal(err.holder?.pid, 202)
        return true
      })
      assert.equal(results.length, 2)
      assert.ok(results[1] instanceof StorageInUseError, 'onCycle saw the reason')
      assert.equal(secondResult?.identity.generation, 2)
      assert.equal((await storedLease())?.pid, 202, 'the stopped daemon left the new lease alone')
      assert.deepEqual(await locks(), [])
      assert.ok(
        first.lines.some((l) => l.startsWith('ERROR another bot process holds the bot storage; stopping')),
      )
    })

    it('ok/through an outage longer than the lease, the daemon keeps it with at most one write per half interval', async () => {
      const bot = newBot(101)
      const second = newBot(202, true)
      let downSince = 0
      const goDown = async () => {
        if (downSince === 0) downSince = h.clock.now().getTime()
        bot.setDown(true)
      }
      let refused: unknown
      let lease: LeaseRecord | undefined
      const whileStillDown = async () => {
        refused = await oneShot(second).catch((err: unknown) => err)
        lease = await storedLease()
      }
      // 24 failing cycles (random 0.5): backoffs of 0.75 s doubling, cut to half the output's
      // remaining lifetime until it lapses 40 minutes in (schedule-policy.ts), then 15 min: ~55 minutes.
      const { run, results } = await daemon(bot, [
        ...Array.from({ length: 24 }, () => goDown),
        whileStillDown,
      ])
      await run
      const downFor = h.clock.now().getTime() - downSince
      assert.ok(downFor > 2 * INTERVAL, `down for ${downFor} ms`)
      assert.ok(results.slice(1).every((r) => r instanceof Error))

      // Assess: at the end of the outage it is still held (a second bot is refused), with time left.
      assert.ok(refused instanceof StorageInUseError, String(refused))
      assert.equal(lease?.pid, 101)
      assert.ok(Date.parse(lease?.expires_at ?? '') - h.clock.now().getTime() > INTERVAL / 2)
      const extended = bot.lines.filter((l) => l.startsWith('DEBUG extended the lease on the bot storage'))
      assert.ok(extended.length >= 2, bot.lines.join('\n'))
      assert.ok(
        extended.length <= Math.ceil(downFor / (INTERVAL / 2)),
        `${extended.length} lease-only writes`,
      )
    })
  })
}

describe('Function: leaseBotStorage', () => {
  const configWith = (storage: Record<string, unknown>, oneshot = false) =>
    validateBotConfig(
      {
        version: 'v1',
        auth_server: 'http://127.0.0.1:3025',
        onboarding: { join_method: 'token', token: 'x'.repeat(32) },
        storage,
        oneshot,
        outputs: [],
      },
      { baseDir: '/' },
    ).config
  const log = createLogger('error', () => {})

  it('ok/a memory storage lives and dies with its process: no lease, the storage as is', () => {
    const storage = new MemoryDestination()
    const leased = leaseBotStorage(storage, configWith({ type: 'memory' }), {
      clock: { now: () => new Date() },
      log,
    })
    assert.equal(leased.lease, undefined)
    assert.equal(leased.storage, storage)
  })

  for (const oneshot of [false, true]) {
    it(`ok/a shareable storage gets a ${oneshot ? 'one-shot' : 'daemon'} lease`, async () => {
      const storage = new MemoryDestination()
      const clock = { now: () => new Date(Date.UTC(2026, 0, 1)) }
      const leased = leaseBotStorage(
        storage,
        configWith({ type: 'aws_secrets_manager', name: 'bot-storage', region: 'eu-west-1' }, oneshot),
        { clock, log },
        { sleep: async () => {} },
      )
      await leased.lease?.acquire()
      const lease = parseLease((await storage.read(LEASE_ARTIFACT)) ?? new Uint8Array())
      assert.equal(lease?.mode, oneshot ? 'one-shot' : 'daemon')
      assert.equal(lease?.pid, process.pid)
      assert.equal(
        Date.parse(lease?.expires_at ?? '') - clock.now().getTime(),
        oneshot ? 2 * MINUTE : 40 * MINUTE,
      )
    })
  }
})
