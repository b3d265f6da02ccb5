/**
 * Renewal by remaining lifetime (`schedule-policy.ts`, `output-schedule.ts`, and `runCycle` /
 * `runDaemon` using them): fresh outputs are skipped, stale ones renewed, the first cycle and a
 * wake renew everything, and configurations without two renewal chances warn.
 */
import assert from 'node:assert/strict'
import { beforeEach, describe, it } from 'node:test'
import { type CycleResult, runCycle } from '../../../lib/bot/bot.ts'
import { validateBotConfig } from '../../../lib/bot/config.ts'
import { runDaemon } from '../../../lib/bot/daemon.ts'
import { OutputSchedule } from '../../../lib/bot/output-schedule.ts'
import {
  failureWaitMs,
  renewAfter,
  renewBeforeMs,
  scheduleWarning,
} from '../../../lib/bot/schedule-policy.ts'
import { type AuthHarness, authHarness } from '../../helpers/auth-harness.ts'
import { scheduledBot } from '../../helpers/scheduled-bot.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE

function assertOk(result: CycleResult | Error | undefined): CycleResult {
  assert.ok(result && !(result instanceof Error), result instanceof Error ? result.message : 'no result')
  return result
}

const renewed = (r: CycleResult) => r.outputs.map((o) => `${o.output}:${o.ok ? 'ok' : o.code}`)

describe('schedule-policy', () => {
  it('ok/renew before max(lifetime / 3, 2 × interval × 1.1)', () => {
    assert.equal(renewBeforeMs(8 * HOUR, 20 * MINUTE), (8 * HOUR) / 3)
    assert.ok(Math.abs(renewBeforeMs(HOUR, 20 * MINUTE) - 44 * MINUTE) < 1e-6)
    const issued = new Date(Date.UTC(2026, 0, 1))
    const after = renewAfter(issued, new Date(issued.getTime() + 3 * HOUR), 20 * MINUTE)
    assert.equal(after.toISOString(), '2026-01-01T02:00:00.000Z')
  })

  it('ok/after a failure the backoff is cut to half the soonest expiry, not below the floor, until it lapses', () => {
    assert.equal(failureWaitMs(20 * MINUTE, undefined, 1000), 20 * MINUTE)
    assert.equal(failureWaitMs(20 * MINUTE, 30 * MINUTE, 1000), 15 * MINUTE)
    assert.equal(failureWaitMs(4000, 30 * MINUTE, 1000), 4000)
    assert.equal(failureWaitMs(4000, 500, 1000), 1000)
    assert.equal(failureWaitMs(20 * MINUTE, -1, 1000), 20 * MINUTE, 'lapsed: the backoff stands')
  })

  it('ok/the defaults (1h, 20m) give two chances; 44m or less does not', () => {
    assert.equal(scheduleWarning('x', HOUR, 20 * MINUTE), undefined)
    assert.equal(scheduleWarning('x', 45 * MINUTE, 20 * MINUTE), undefined)
    assert.match(scheduleWarning('x', 44 * MINUTE, 20 * MINUTE) ?? '', /^x: credential_ttl 44m0s leaves/)
  })
})

describe('config warnings: two renewal chances', () => {
  const parse = (top: Record<string, unknown>, output: Record<string, unknown> = {}) =>
    validateBotConfig(
      {
        version: 'v1',
        auth_server: 'http://127.0.0.1:3025',
        onboarding: { join_method: 'token', token: 'secret' },
        storage: { type: 'directory', path: '/var/lib/bot' },
        ...top,
        outputs: [{ type: 'identity', name: 'ssh', destination: { type: 'memory' }, ...output }],
      },
      { baseDir: '/' },
    ).warnings

  it('ok/the defaults and examples/bot.yaml values (1h, 20m) pass without warning', () => {
    assert.deepEqual(parse({}), [])
    assert.deepEqual(parse({ credential_ttl: '1h', renewal_interval: '20m' }), [])
  })

  it('ok/an output whose TTL is within two jittered intervals is named with the numbers', () => {
    const warnings = parse({}, { credential_ttl: '40m' })
    assert.deepEqual(warnings, [
      'outputs[0] (ssh): credential_ttl 40m0s leaves fewer than two renewal chances: the daemon wakes ' +
        'every renewal_interval 20m0s ±10% (up to 22m0s apart), so a credential must live more than ' +
        '44m0s for one failed renewal to be retried before it expires',
    ])
  })

  it('ok/a top-level lifetime names the bot identity and every output inheriting it', () => {
    const warnings = parse({ credential_ttl: '1h', renewal_interval: '30m' })
    assert.equal(warnings.length, 2)
    assert.match(warnings[0] ?? '', /^the bot identity: credential_ttl 1h0m0s .* 30m0s ±10% \(up to 33m0s/)
    assert.match(warnings[1] ?? '', /^outputs\[0\] \(ssh\): credential_ttl 1h0m0s/)
  })

  it('ok/no warning in oneshot mode, and none on top of "expire before they are renewed"', () => {
    assert.deepEqual(parse({ credential_ttl: '40m', oneshot: true }), [])
    const shorter = parse({}, { credential_ttl: '10m' })
    assert.equal(shorter.length, 1)
    assert.match(shorter[0] ?? '', /^outputs\[0\]: credential_ttl \(10m0s\) is shorter than renewal_interval/)
  })
})

describe('OutputSchedule', () => {
  it('ok/unknown outputs are due; a success sets renewAfter; a failure keeps it and records the error', () => {
    const schedule = new OutputSchedule()
    const t0 = new Date(Date.UTC(2026, 0, 1))
    assert.equal(schedule.isDue('ssh', t0), true)
    schedule.recordSuccess('ssh', {
      at: t0,
      serial: 'ab',
      notAfter: new Date(t0.getTime() + 3 * HOUR).toISOString(),
      intervalMs: 20 * MINUTE,
    })
    assert.equal(schedule.isDue('ssh', new Date(t0.getTime() + 2 * HOUR - 1)), false)
    assert.equal(schedule.isDue('ssh', new Date(t0.getTime() + 2 * HOUR)), true)
    schedule.recordFailure('ssh', t0, { code: 'ERR_THROTTLED', message: 'slow down' })
    assert.deepEqual(schedule.get('ssh'), {
      output: 'ssh',
      lastSuccessAt: '2026-01-01T00:00:00.000Z',
      serial: 'ab',
      notAfter: '2026-01-01T03:00:00.000Z',
      renewAfter: '2026-01-01T02:00:00.000Z',
      lastError: { code: 'ERR_THROTTLED', message: 'slow down', at: '2026-01-01T00:00:00.000Z' },
    })
  })
})

describe('Function: runCycle with renew: due', () => {
  let h: AuthHarness
  beforeEach(async () => {
    h = await authHarness()
  })

  it('ok/fresh outputs are skipped and stale ones renewed; renew: all renews both', async () => {
    // Prepare: a 3h output is due after 2h (its last third); a 1h one after 16m (44m before expiry).
    const bot = await scheduledBot(h, {
      top: { credential_ttl: '3h' },
      outputs: { long: {}, short: { credential_ttl: '1h' } },
    })
    const first = await runCycle(bot.deps, { isStartup: true })
    assert.deepEqual(renewed(first), ['long:ok', 'short:ok'])

    // Act: 20 minutes later.
    h.clock.advance(20 * MINUTE)
    const second = await runCycle(bot.deps, { renew: 'due' })

    // Assess: only the short-lived output was renewed.
    assert.deepEqual(renewed(second), ['short:ok'])
    assert.deepEqual(second.skipped, ['long'])
    assert.equal(bot.destinations.get('long')?.written.length, 1)
    assert.equal(bot.destinations.get('short')?.written.length, 2)
    assert.equal(
      bot.schedule.get('long')?.renewAfter,
      new Date(h.clock.now().getTime() + 100 * MINUTE).toISOString(),
    )

    // Past the long output's renewAfter (2h after its issuance) both are due.
    h.clock.advance(100 * MINUTE)
    assert.deepEqual(renewed(await runCycle(bot.deps, { renew: 'due' })), ['long:ok', 'short:ok'])
    // renew: all ignores the schedule.
    assert.deepEqual(renewed(await runCycle(bot.deps, { renew: 'all' })), ['long:ok', 'short:ok'])
    assert.equal(bot.destinations.get('long')?.written.length, 3)
  })

  it('ok/a failed output stays due and keeps its error until it succeeds', async () => {
    const bot = await scheduledBot(h, { outputs: { ssh: {} } })
    bot.destinations.get('ssh')?.failures.push(new Error('disk full'))
    const first = await runCycle(bot.deps)
    assert.deepEqual(renewed(first), ['ssh:ERR_INTERNAL'])
    assert.deepEqual(bot.schedule.get('ssh')?.lastError?.code, 'ERR_INTERNAL')
    const second = await runCycle(bot.deps, { renew: 'due' })
    assert.deepEqual(renewed(second), ['ssh:ok'])
    assert.equal(bot.schedule.get('ssh')?.lastError, undefined)
  })
})

describe('Function: runDaemon renews by schedule', () => {
  it('ok/a backoff cycle renews the failed output only; the next scheduled cycle renews both (defaults)', async () => {
    const h = await authHarness()
    const bot = await scheduledBot(h, { outputs: { a: {}, b: {} } })
    bot.destinations.get('b')?.failures.push(new Error('disk full'))
    const controller = new AbortController()
    const results: CycleResult[] = []
    const sleeps: number[] = []
    await runDaemon(bot.deps, {
      signal: controller.signal,
      wake: () => new Promise<void>(() => {}),
      sleep: async (ms) => {
        sleeps.push(ms)
        h.clock.advance(Math.round(ms))
      },
      random: () => 0.5,
      onCycle: (r) => {
        results.push(assertOk(r))
        if (results.length === 3) controller.abort()
      },
    })
    assert.deepEqual(results.map(renewed), [['a:ok', 'b:ERR_INTERNAL'], ['b:ok'], ['a:ok', 'b:ok']])
    assert.deepEqual(results[1]?.skipped, ['a'])
    assert.deepEqual(sleeps, [750, 20 * MINUTE])
  })

  it('ok/a wake renews every output; a timed wake-up skips the fresh ones', async () => {
    const h = await authHarness()
    const bot = await scheduledBot(h, { top: { credential_ttl: '3h' }, outputs: { a: {}, b: {} } })
    const controller = new AbortController()
    const results: CycleResult[] = []
    // Cycle 1 is the first; cycle 2 follows a wake; cycle 3 follows a plain 20m sleep.
    const wakes = [true, false]
    await runDaemon(bot.deps, {
      signal: controller.signal,
      wake: () => (wakes.shift() ? Promise.resolve() : new Promise<void>(() => {})),
      sleep: async (ms, wake) => {
        await Promise.race([wake, Promise.resolve()])
        h.clock.advance(Math.round(ms))
      },
      random: () => 0.5,
      onCycle: (r) => {
        results.push(assertOk(r))
        if (results.length === 3) controller.abort()
      },
    })
    assert.deepEqual(results.map(renewed), [['a:ok', 'b:ok'], ['a:ok', 'b:ok'], []])
    assert.deepEqual(results[2]?.skipped, ['a', 'b'])
  })

  it('ok/while the auth service stays down, retries never sleep through half the remaining lifetime', async () => {
    const h = await authHarness()
    const bot = await scheduledBot(h, { outputs: { ssh: {} } })
    const controller = new AbortController()
    const waits: { ms: number; remaining: number }[] = []
    let cycles = 0
    await runDaemon(bot.deps, {
      signal: controller.signal,
      wake: () => new Promise<void>(() => {}),
      sleep: async (ms) => {
        const notAfter = await bot.destinations.get('ssh')?.certNotAfter()
        waits.push({ ms, remaining: (notAfter?.getTime() ?? 0) - h.clock.now().getTime() })
        h.clock.advance(Math.round(ms))
      },
      random: () => 1, // the longest backoff
      onCycle: () => {
        bot.down = () => true // every cycle after the first fails
        if (++cycles === 20) controller.abort()
      },
    })
    const failed = waits.slice(2) // after the scheduled sleep and the first backoff
    assert.ok(
      failed.every((w) => w.ms <= Math.max(1000, w.remaining / 2)),
      JSON.stringify(failed),
    )
    assert.ok(
      failed.some((w) => w.ms < 20 * MINUTE && w.ms === w.remaining / 2),
      'a wait was cut',
    )
  })
})
