/**
 * Retries within a run (`retry.ts`): full-jitter delays, and `runCycle` retrying a throttled
 * write or an unreachable issuance through an injected sleep, never a non-retryable error.
 */
import assert from 'node:assert/strict'
import { beforeEach, describe, it } from 'node:test'
import { type OutputResult, runCycle } from '../../../lib/bot/bot.ts'
import { DEFAULT_RETRY_POLICY, type RetryDeps, retryDelayMs, withRetry } from '../../../lib/bot/retry.ts'
import { AccessDeniedError, ThrottledError, UpstreamUnavailableError } from '../../../lib/errors.ts'
import { type AuthHarness, authHarness } from '../../helpers/auth-harness.ts'
import { scheduledBot } from '../../helpers/scheduled-bot.ts'

/** Retry deps whose sleep records the delays and returns at once. */
function recordingRetry(random = 0.5): RetryDeps & { readonly sleeps: number[] } {
  const sleeps: number[] = []
  return {
    sleeps,
    sleep: async (ms) => {
      sleeps.push(ms)
    },
    random: () => random,
  }
}

function only(outputs: readonly OutputResult[]): OutputResult {
  assert.equal(outputs.length, 1)
  return outputs[0] as OutputResult
}

describe('Function: retryDelayMs', () => {
  it('ok/full jitter: random × min(cap, base × 2^(n-1))', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => retryDelayMs(n, 1)),
      [200, 400, 800, 1600, 2000],
    )
    assert.equal(retryDelayMs(2, 0.25), 100)
    assert.equal(retryDelayMs(1, 0), 0)
  })
})

describe('Function: withRetry', () => {
  it('ok/ERR_THROTTLED and ERR_UPSTREAM_UNAVAILABLE are retried up to 3 attempts', async () => {
    const retry = recordingRetry()
    let calls = 0
    const value = await withRetry(async () => {
      calls++
      if (calls === 1) throw new ThrottledError('slow down')
      if (calls === 2) throw new UpstreamUnavailableError('gone')
      return 'done'
    }, retry)
    assert.equal(value, 'done')
    assert.equal(calls, DEFAULT_RETRY_POLICY.attempts)
    assert.deepEqual(retry.sleeps, [100, 200])
  })

  it('fail/the last retryable error is thrown after the last attempt', async () => {
    const retry = recordingRetry()
    let calls = 0
    await assert.rejects(
      withRetry(async () => {
        calls++
        throw new ThrottledError(`slow down ${calls}`)
      }, retry),
      { code: 'ERR_THROTTLED', message: 'slow down 3' },
    )
    assert.equal(retry.sleeps.length, 2)
  })

  it('fail/other errors, and any error without retry deps, fail at the first attempt', async () => {
    for (const [err, deps] of [
      [new AccessDeniedError('no'), recordingRetry()],
      [new TypeError('bug'), recordingRetry()],
      [new ThrottledError('slow down'), undefined],
    ] as const) {
      let calls = 0
      await assert.rejects(
        withRetry(async () => {
          calls++
          throw err
        }, deps),
        err,
      )
      assert.equal(calls, 1, err.message)
      assert.deepEqual(deps?.sleeps ?? [], [])
    }
  })

  it('fail/an aborted run stops retrying', async () => {
    const controller = new AbortController()
    let calls = 0
    await assert.rejects(
      withRetry(
        async () => {
          calls++
          throw new ThrottledError('slow down')
        },
        { ...recordingRetry(), sleep: async () => controller.abort(), signal: controller.signal },
      ),
      { code: 'ERR_THROTTLED' },
    )
    assert.equal(calls, 1)
  })
})

describe('Function: runCycle retries throttled outputs', () => {
  let h: AuthHarness
  beforeEach(async () => {
    h = await authHarness()
  })

  it('ok/a destination throttled twice then writing: one issuance, one version, three attempts', async () => {
    const bot = await scheduledBot(h, { outputs: { ssh: {} } })
    const dest = bot.destinations.get('ssh')
    assert.ok(dest)
    dest.failures.push(new ThrottledError('Secrets Manager is throttling'), new ThrottledError('again'))
    const retry = recordingRetry()

    const result = only((await runCycle(bot.deps, { retry })).outputs)

    assert.equal(result.ok, true, result.ok ? '' : result.message)
    assert.equal(dest.attempts, 3)
    assert.deepEqual(dest.written, [result.ok ? result.serial : ''])
    assert.equal(bot.requests.get('/v1/certs'), 1, 'the write is retried, not the issuance')
    assert.deepEqual(retry.sleeps, [100, 200])
    assert.equal(
      bot.lines.filter((l) =>
        /^WARN +write for memory ssh failed; retrying output=ssh code=ERR_THROTTLED retry=\d/.test(l),
      ).length,
      2,
    )
  })

  it('ok/an issuance that finds the auth service unreachable is retried', async () => {
    const bot = await scheduledBot(h, { outputs: { ssh: {} } })
    let refused = 0
    bot.down = (path) => path === '/v1/certs' && refused++ === 0
    const retry = recordingRetry()
    const result = only((await runCycle(bot.deps, { retry })).outputs)
    assert.equal(result.ok, true)
    assert.equal(bot.requests.get('/v1/certs'), 1)
    assert.deepEqual(retry.sleeps, [100])
  })

  it('fail/a non-retryable write error is not retried', async () => {
    const bot = await scheduledBot(h, { outputs: { ssh: {} } })
    const dest = bot.destinations.get('ssh')
    assert.ok(dest)
    dest.failures.push(new AccessDeniedError('the bot may not write this secret'))
    const retry = recordingRetry()
    const result = only((await runCycle(bot.deps, { retry })).outputs)
    assert.deepEqual(result.ok ? undefined : [result.code, result.message], [
      'ERR_ACCESS_DENIED',
      'the bot may not write this secret',
    ])
    assert.equal(dest.attempts, 1)
    assert.deepEqual(dest.written, [])
    assert.deepEqual(retry.sleeps, [])
    assert.equal(bot.schedule.get('ssh')?.lastError?.code, 'ERR_ACCESS_DENIED')
  })

  it('fail/still throttled after three attempts: the output fails with ERR_THROTTLED', async () => {
    const bot = await scheduledBot(h, { outputs: { ssh: {} } })
    const dest = bot.destinations.get('ssh')
    assert.ok(dest)
    dest.failWith = () => new ThrottledError('throttled')
    const result = only((await runCycle(bot.deps, { retry: recordingRetry() })).outputs)
    assert.equal(result.ok ? 'ok' : result.code, 'ERR_THROTTLED')
    assert.equal(dest.attempts, 3)
  })
})
