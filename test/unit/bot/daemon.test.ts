/**
 * The daemon loop (`runDaemon`) with injected control: a fake `sleep` that records what it was
 * asked to wait (and moves the harness clock instead of waiting), a fixed `random`, an
 * AbortController, and an auth service that can be "stopped" by making the client's fetch throw.
 */
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { beforeEach, describe, it } from 'node:test'
import { MemoryDestination } from '../../../lib/adapters/memory/destination.ts'
import { addJoinToken } from '../../../lib/auth/bots.ts'
import { AuthClient } from '../../../lib/bot/auth-client.ts'
import type { BotDeps, CycleResult } from '../../../lib/bot/bot.ts'
import { validateBotConfig } from '../../../lib/bot/config.ts'
import { type DaemonControl, runDaemon } from '../../../lib/bot/daemon.ts'
import { reloadNotifier, sleepUntil } from '../../../lib/cli/signals.ts'
import { createLogger } from '../../../lib/log.ts'
import { type AuthHarness, authHarness, BASE_URL } from '../../helpers/auth-harness.ts'

const MINUTE = 60_000
const INTERVAL = 20 * MINUTE // the default renewal_interval

interface Daemon {
  readonly deps: BotDeps
  readonly lines: string[]
  /** Makes every request to the auth service fail (as if it were stopped), or not. */
  setDown(down: boolean): void
}

async function daemonBot(h: AuthHarness, renewalInterval?: string): Promise<Daemon> {
  const { token } = await addJoinToken(h.service.deps, 'example', 24 * 60 * MINUTE)
  const config = validateBotConfig(
    {
      version: 'v1',
      auth_server: 'http://127.0.0.1:3025',
      onboarding: { join_method: 'token', token },
      storage: { type: 'memory' },
      ...(renewalInterval !== undefined && { renewal_interval: renewalInterval }),
      outputs: [{ type: 'identity', name: 'ssh', roles: ['access'], destination: { type: 'memory' } }],
    },
    { baseDir: '/' },
  ).config
  let down = false
  const client = new AuthClient({
    baseUrl: BASE_URL,
    clock: h.clock,
    fetch: (url, init) => (down ? Promise.reject(new TypeError('fetch failed')) : h.fetch(url, init)),
  })
  const lines: string[] = []
  return {
    deps: {
      config,
      client,
      storage: new MemoryDestination({ label: 'storage' }),
      destinations: new Map([['ssh', new MemoryDestination({ label: 'ssh' })]]),
      clock: h.clock,
      log: createLogger('debug', (line) => lines.push(line)),
    },
    lines,
    setDown: (value) => {
      down = value
    },
  }
}

interface FakeRun {
  readonly sleeps: number[]
  readonly results: (CycleResult | Error)[]
}

/**
 * Runs the daemon for `plan.length` cycles; `plan[i]` says whether the auth service is up during
 * cycle i. The fake sleep records the wait, advances the clock by it and returns at once.
 */
async function runPlanned(
  h: AuthHarness,
  bot: Daemon,
  plan: readonly boolean[],
  random: () => number,
): Promise<FakeRun> {
  const controller = new AbortController()
  const sleeps: number[] = []
  const results: (CycleResult | Error)[] = []
  bot.setDown(!plan[0])
  await runDaemon(bot.deps, {
    signal: controller.signal,
    wake: () => new Promise<void>(() => {}),
    sleep: async (ms) => {
      sleeps.push(ms)
      h.clock.advance(Math.round(ms))
    },
    random,
    onCycle: (result) => {
      results.push(result)
      if (results.length >= plan.length) controller.abort()
      else bot.setDown(!plan[results.length])
    },
  })
  return { sleeps, results }
}

const UP = true
const DOWN = false

function assertOk(result: CycleResult | Error | undefined): CycleResult {
  assert.ok(result && !(result instanceof Error), result instanceof Error ? result.message : 'no result')
  return result
}

function assertFailed(result: CycleResult | Error | undefined, code: string): Error {
  assert.ok(result instanceof Error, 'expected an error')
  assert.equal((result as Error & { code?: string }).code, code, result.message)
  return result
}

/** A promise and its resolver. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {}
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

describe('Function: runDaemon', () => {
  let h: AuthHarness
  beforeEach(async () => {
    h = await authHarness()
  })

  describe('waits between cycles', () => {
    it('ok/random 0.5 waits exactly the renewal interval', async () => {
      const bot = await daemonBot(h)
      const run = await runPlanned(h, bot, [UP, UP, UP], () => 0.5)
      assert.deepEqual(run.sleeps, [INTERVAL, INTERVAL])
      const generations = run.results.map((r) => assertOk(r).identity.generation)
      assert.deepEqual(generations, [1, 2, 3])
    })

    const jitter: [name: string, random: number, factor: number][] = [
      ['ok/random 0 waits 90% of the interval', 0, 0.9],
      ['ok/random 1 waits 110% of the interval', 1, 1.1],
    ]
    for (const [name, random, factor] of jitter) {
      it(name, async () => {
        const bot = await daemonBot(h)
        const run = await runPlanned(h, bot, [UP, UP], () => random)
        assert.equal(run.sleeps.length, 1)
        assert.ok(Math.abs((run.sleeps[0] as number) - INTERVAL * factor) < 1e-6, String(run.sleeps[0]))
      })
    }

    it('ok/the interval comes from the configuration (renewal_interval)', async () => {
      const bot = await daemonBot(h, '5m')
      const run = await runPlanned(h, bot, [UP, UP], () => 0.5)
      assert.deepEqual(run.sleeps, [5 * MINUTE])
    })

    it('ok/aborting during the last cycle ends the loop without another sleep', async () => {
      const bot = await daemonBot(h)
      const run = await runPlanned(h, bot, [UP], () => 0.5)
      assert.equal(run.results.length, 1)
      assert.deepEqual(run.sleeps, [])
    })
  })

  describe('backoff after a failed cycle', () => {
    it('fail/while the auth service is down the wait is 1s, 2s, 4s × jitter, and resets after a success', async () => {
      const bot = await daemonBot(h)
      const run = await runPlanned(h, bot, [UP, DOWN, DOWN, DOWN, UP, DOWN, UP], () => 0.5)
      // Backoff jitter is 50–100%: random 0.5 gives a factor of 0.75; a success waits the interval.
      assert.deepEqual(run.sleeps, [INTERVAL, 750, 1500, 3000, INTERVAL, 750])
      assertOk(run.results[0])
      for (const i of [1, 2, 3, 5]) {
        assert.match(
          assertFailed(run.results[i], 'ERR_UPSTREAM_UNAVAILABLE').message,
          /^auth server http:\/\/auth\.test is unreachable$/,
        )
      }
      // The identity survived the outage: renewals continue the same instance.
      assert.equal(assertOk(run.results[4]).identity.generation, 2)
      assert.equal(assertOk(run.results[6]).identity.generation, 3)
      const failures = bot.lines.filter((l) => l.startsWith('ERROR renewal cycle failed'))
      assert.deepEqual(
        failures.map((l) => /attempt=(\d+)$/.exec(l)?.[1]),
        ['1', '2', '3', '1'],
      )
    })

    it('fail/the backoff doubles up to the renewal interval and stays there (no credential yet)', async () => {
      // Once outputs exist, the wait is also capped by their remaining lifetime (schedule.test.ts).
      const bot = await daemonBot(h)
      const plan = Array.from({ length: 13 }, () => DOWN)
      const run = await runPlanned(h, bot, plan, () => 1) // backoff factor 1.0
      const backoffs = run.sleeps
      assert.deepEqual(backoffs, [
        1000,
        2000,
        4000,
        8000,
        16_000,
        32_000,
        64_000,
        128_000,
        256_000,
        512_000,
        1_024_000,
        INTERVAL,
      ])
    })

    it('fail/with random 0 the backoff is half the step (the lower bound of its jitter)', async () => {
      const bot = await daemonBot(h)
      const run = await runPlanned(h, bot, [DOWN, DOWN, DOWN], () => 0)
      assert.deepEqual(run.sleeps, [500, 1000])
    })

    it('fail/a cycle that fails before the first join backs off, then joins once the service is back', async () => {
      const bot = await daemonBot(h)
      const run = await runPlanned(h, bot, [DOWN, UP], () => 0.5)
      assert.deepEqual(run.sleeps, [750])
      assertFailed(run.results[0], 'ERR_UPSTREAM_UNAVAILABLE')
      assert.equal(assertOk(run.results[1]).identity.generation, 1)
    })
  })

  describe('onCycle', () => {
    it('ok/receives each cycle result, and each error as an Error with its code', async () => {
      const bot = await daemonBot(h)
      // Prepare: the second cycle is refused by a lock (a BrokerError from the server, not an outage).
      const controller = new AbortController()
      const results: (CycleResult | Error)[] = []
      await runDaemon(bot.deps, {
        signal: controller.signal,
        wake: () => new Promise<void>(() => {}),
        // The daemon awaits its sleep: the lock is in place before the second cycle starts.
        sleep: async () => {
          if (results.length !== 1) return
          await h.service.deps.resources.create({
            kind: 'lock',
            version: 'v1',
            metadata: { name: 'maintenance', labels: {} },
            spec: { target: { user: 'bot-example' }, message: 'maintenance window' },
          })
        },
        random: () => 0.5,
        onCycle: (result) => {
          results.push(result)
          if (results.length === 3) controller.abort()
        },
      })
      const first = assertOk(results[0])
      assert.equal(first.outputs.length, 1)
      assert.equal(first.outputs[0]?.ok, true)
      for (const failed of results.slice(1)) {
        const err = assertFailed(failed, 'ERR_ACCESS_DENIED')
        assert.match(err.message, /lock targeting user "bot-example" is in force: maintenance window/)
      }
    })
  })

  describe('wake', () => {
    it('ok/a wake resolving starts the next cycle at once; the fake sleep receives and honours the wake promise', async () => {
      const bot = await daemonBot(h)
      const controller = new AbortController()
      const given: { promise: Promise<void>; resolve: () => void }[] = []
      const received: Promise<void>[] = []
      const sleeps: number[] = []
      const results: (CycleResult | Error)[] = []
      let sleeping = deferred()
      let cycled = deferred()
      const control: DaemonControl = {
        signal: controller.signal,
        wake: () => {
          const d = deferred()
          given.push(d)
          return d.promise
        },
        // Never returns on its own: only a wake or an abort ends it, so a cycle after it proves a wake.
        sleep: (ms, wake, signal) => {
          sleeps.push(ms)
          received.push(wake)
          const done = new Promise<void>((resolve) => {
            void wake.then(resolve)
            signal.addEventListener('abort', () => resolve(), { once: true })
          })
          sleeping.resolve()
          return done
        },
        random: () => 0.5,
        onCycle: (result) => {
          results.push(result)
          cycled.resolve()
        },
      }
      const daemon = runDaemon(bot.deps, control)

      // Cycle 1, then the daemon sleeps on the wake promise it was given.
      await cycled.promise
      await sleeping.promise
      assert.equal(received[0], given[0]?.promise)
      assert.deepEqual(sleeps, [INTERVAL])
      // Nothing happens while nobody wakes it (a few event-loop turns, no time passes).
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r))
      assert.equal(results.length, 1)

      // Act: wake (a reload signal).
      cycled = deferred()
      sleeping = deferred()
      given[0]?.resolve()
      await cycled.promise

      // Assess: cycle 2 ran without the clock moving, renewing the identity.
      assert.equal(results.length, 2)
      assert.equal(assertOk(results[1]).identity.generation, 2)
      await sleeping.promise
      assert.equal(given.length, 2, 'each sleep gets a fresh wake promise')
      assert.equal(received[1], given[1]?.promise)

      // An abort while sleeping ends the loop without another cycle.
      controller.abort()
      await daemon
      assert.equal(results.length, 2)
    })

    it('ok/a wake that already resolved makes the next sleep end at once', async () => {
      const bot = await daemonBot(h)
      const controller = new AbortController()
      let cycles = 0
      await runDaemon(bot.deps, {
        signal: controller.signal,
        wake: () => Promise.resolve(),
        sleep: (_ms, wake, signal) =>
          new Promise<void>((resolve) => {
            void wake.then(resolve)
            signal.addEventListener('abort', () => resolve(), { once: true })
          }),
        random: () => 0.5,
        onCycle: () => {
          if (++cycles === 3) controller.abort()
        },
      })
      assert.equal(cycles, 3)
    })
  })
})

/**
 * The control the CLI really passes (`lib/cli/signals.ts`), driven for several cycles without
 * waiting: the fake sleep above stands in for time, the real functions for everything else.
 */
describe('the CLI daemon control over many cycles', () => {
  it('ok/the reload notifier adds one SIGHUP/SIGUSR1 listener pair whatever the number of cycles, and close removes it', async () => {
    const h = await authHarness()
    const bot = await daemonBot(h)
    const before = { hup: process.listeners('SIGHUP'), usr1: process.listeners('SIGUSR1') }
    const controller = new AbortController()
    let cycles = 0
    const reload = reloadNotifier()
    try {
      await runDaemon(bot.deps, {
        signal: controller.signal,
        wake: reload.wake,
        sleep: async () => {},
        random: () => 0.5,
        onCycle: () => {
          if (++cycles === 5) controller.abort()
        },
      })
      assert.equal(cycles, 5)
      assert.equal(process.listenerCount('SIGHUP') - before.hup.length, 1, 'SIGHUP listeners accumulate')
      assert.equal(process.listenerCount('SIGUSR1') - before.usr1.length, 1, 'SIGUSR1 listeners accumulate')
      reload.close()
      assert.equal(process.listenerCount('SIGHUP'), before.hup.length)
    } finally {
      reload.close()
      for (const [event, kept] of [
        ['SIGHUP', before.hup],
        ['SIGUSR1', before.usr1],
      ] as const) {
        for (const listener of process.listeners(event)) {
          if (!kept.includes(listener)) process.off(event, listener as () => void)
        }
      }
    }
  })

  it('ok/sleepUntil leaves no abort listener on the daemon signal once it returns', async () => {
    const controller = new AbortController()
    // The wake has already resolved, so each sleep ends at once and clears its timer.
    for (let i = 0; i < 5; i++) await sleepUntil(MINUTE, Promise.resolve(), controller.signal)
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0)
  })

  it('ok/a reload signal that arrives during a cycle is not lost', async () => {
    const reload = reloadNotifier()
    try {
      process.emit('SIGHUP')
      let woke = false
      await Promise.race([reload.wake().then(() => (woke = true)), new Promise((r) => setImmediate(r))])
      assert.equal(woke, true)
    } finally {
      reload.close()
    }
  })
})
