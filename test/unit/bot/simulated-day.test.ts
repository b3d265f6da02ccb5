/**
 * Acceptance for issue 8's schedule: a simulated day of the bot daemon with the default schedule
 * (TTL 1h, renewal interval 20m ±10%), the real auth service in memory and memory destinations,
 * driven by an injected clock — no real time passes.
 *
 * Failures, from a seeded PRNG: each cycle finds the auth service down with probability 1/3 (every
 * request of the cycle fails); each write attempt is throttled with probability 1/6 (retried
 * within the run) or fails for good with probability 1/12; and a 30-minute outage, longer than a
 * renewal interval, starts at 09:05.
 *
 * Expiry is checked after every simulated step of at most a minute, and at the end of every sleep:
 * the clock does not move during a cycle (except through retry sleeps, which are checked too), so
 * the instants just before each cycle are where an output has the least time left.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { CycleResult } from '../../../lib/bot/bot.ts'
import { runDaemon } from '../../../lib/bot/daemon.ts'
import { formatDuration } from '../../../lib/duration.ts'
import { ThrottledError } from '../../../lib/errors.ts'
import { authHarness } from '../../helpers/auth-harness.ts'
import { scheduledBot, seededRandom } from '../../helpers/scheduled-bot.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const STEP = MINUTE
const SEED = 0x8c4ed1

describe('a simulated day of the daemon (default schedule)', () => {
  it('ok/no output is ever expired despite failed runs, throttling, an outage and jitter', async (t) => {
    // Prepare
    const h = await authHarness()
    const bot = await scheduledBot(h, { outputs: { ssh: {}, deploy: {}, ci: {} } })
    const chance = seededRandom(SEED)
    const start = h.clock.now().getTime()
    const outage = { from: start + 9 * HOUR + 5 * MINUTE, to: start + 9 * HOUR + 35 * MINUTE }
    let cycleDown = chance() < 1 / 3
    bot.down = () => {
      const now = h.clock.now().getTime()
      return cycleDown || (now >= outage.from && now < outage.to)
    }
    for (const dest of bot.destinations.values()) {
      dest.failWith = () => {
        const r = chance()
        if (r < 1 / 12) return new Error('disk full')
        return r < 1 / 12 + 1 / 6 ? new ThrottledError('Secrets Manager is throttling requests') : undefined
      }
    }

    let minRemaining = Number.POSITIVE_INFINITY
    let checks = 0
    const check = async () => {
      const now = h.clock.now().getTime()
      for (const [name, dest] of bot.destinations) {
        const notAfter = await dest.certNotAfter()
        if (notAfter === undefined) {
          assert.ok(now - start < 5 * MINUTE, `${name} was never written in the first 5 minutes`)
          continue
        }
        const remaining = notAfter.getTime() - now
        assert.ok(remaining > 0, `${name} expired at ${new Date(now).toISOString()}`)
        minRemaining = Math.min(minRemaining, remaining)
        checks++
      }
    }

    const controller = new AbortController()
    const results: (CycleResult | Error)[] = []
    const sleeps: number[] = []

    // Act
    await runDaemon(bot.deps, {
      signal: controller.signal,
      wake: () => new Promise<void>(() => {}),
      sleep: async (ms) => {
        sleeps.push(ms)
        for (let left = Math.round(ms); left > 0; left -= STEP) {
          h.clock.advance(Math.min(STEP, left))
          await check()
        }
        if (h.clock.now().getTime() - start >= DAY) controller.abort()
      },
      random: seededRandom(SEED + 1),
      onCycle: (result) => {
        results.push(result)
        cycleDown = chance() < 1 / 3
      },
    })

    // Assess: the scenario happened as described…
    const failedRuns = results.filter((r) => r instanceof Error).length
    const cycles = results.filter((r): r is CycleResult => !(r instanceof Error))
    const failedOutputs = cycles.flatMap((c) => c.outputs).filter((o) => !o.ok).length
    const skipped = cycles.reduce((n, c) => n + c.skipped.length, 0)
    const retries = bot.lines.filter((l) => /^WARN +write for .* failed; retrying/.test(l)).length
    const scheduled = sleeps.filter((ms) => ms >= 18 * MINUTE)
    assert.ok(h.clock.now().getTime() - start >= DAY)
    assert.ok(failedRuns / results.length > 0.2 && failedRuns / results.length < 0.5, `${failedRuns}`)
    assert.ok(failedOutputs > 0 && skipped > 0 && retries > 0, `${failedOutputs} ${skipped} ${retries}`)
    assert.ok(Math.min(...scheduled) < 19 * MINUTE && Math.max(...scheduled) > 21 * MINUTE, 'jitter')
    assert.ok(scheduled.every((ms) => ms < 22 * MINUTE))
    // With the defaults every scheduled wake renews: at least one version per 24m on average.
    for (const dest of bot.destinations.values()) {
      assert.ok(dest.written.length >= DAY / (24 * MINUTE), `${dest.written.length}`)
    }

    // …and no output ever expired; the tightest moment is reported.
    assert.ok(minRemaining > 0)
    const report =
      `minimum remaining lifetime ${formatDuration(Math.round(minRemaining))} over ${checks} checks; ` +
      `${results.length} runs, ${failedRuns} failed, ${failedOutputs} output failures, ` +
      `${retries} throttled writes retried, ${skipped} fresh outputs skipped`
    t.diagnostic(report)
  })
})
