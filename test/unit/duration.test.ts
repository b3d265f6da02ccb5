import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  DurationError,
  formatDuration,
  MAX_DURATION_MS,
  parseDuration,
  tryParseDuration,
} from '../../lib/duration.ts'

const S = 1000
const M = 60 * S
const H = 60 * M

describe('Function: parseDuration', () => {
  const ok: [string, number][] = [
    ['45s', 45 * S],
    ['1h30m', H + 30 * M],
    ['1.5h', H + 30 * M],
    ['0.1h', 6 * M],
    ['250ms', 250],
    ['1m30s500ms', M + 30 * S + 500],
    ['30m1h', H + 30 * M],
    ['1h1h', 2 * H],
    ['0s', 0],
    ['12h', 12 * H],
    ['0.001s', 1],
    ['2562047h47m16s854ms', MAX_DURATION_MS],
  ]
  for (const [text, ms] of ok) {
    it(`ok/${text}`, () => assert.equal(parseDuration(text), ms))
  }

  const fail: [string, string, RegExp][] = [
    ['empty', '', /must not be empty/],
    ['negative', '-1h', /must not have a sign/],
    ['plus sign', '+1h', /must not have a sign/],
    ['bare number', '90', /needs a unit/],
    ['bare zero', '0', /needs a unit/],
    ['bare fraction', '1.5', /needs a unit/],
    ['unknown unit', '1d', /unknown unit "d"; supported units: ms, s, m, h/],
    ['nanoseconds', '5ns', /unknown unit "ns"/],
    ['upper case', '1H', /not valid at "1H"/],
    ['space', '1h 30m', /not valid at " 30m"/],
    ['leading dot', '.5h', /not valid/],
    ['trailing dot', '1.h', /not valid|unknown unit/],
    ['trailing garbage', '1h30', /not valid at "30"/],
    ['sub-millisecond', '1.5ms', /whole number of milliseconds/],
    ['overflow', '2562047h47m16s855ms', /too long/],
    ['huge number', '99999999999999999999h', /too long/],
    ['too long text', `${'1s'.repeat(40)}`, /at most 64 characters/],
  ]
  for (const [name, text, message] of fail) {
    it(`fail/${name}`, () => {
      assert.throws(
        () => parseDuration(text),
        (err: unknown) => {
          assert.ok(err instanceof DurationError)
          assert.match(err.problem, message)
          return true
        },
      )
      assert.equal(tryParseDuration(text).ok, false)
    })
  }

  it('fail/non-string input is a problem, not a crash', () => {
    assert.deepEqual(tryParseDuration(42 as unknown as string), {
      ok: false,
      problem: 'a duration must be a string such as "1h30m"',
    })
  })
})

describe('Function: formatDuration', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [1, '1ms'],
    [250, '250ms'],
    [S, '1s'],
    [1500, '1.5s'],
    [45 * S, '45s'],
    [M + 30 * S, '1m30s'],
    [H, '1h0m0s'],
    [H + 30 * M, '1h30m0s'],
    [26 * H + 5 * S + 10, '26h0m5.01s'],
  ]
  for (const [ms, text] of cases) {
    it(`ok/${ms} → ${text}`, () => assert.equal(formatDuration(ms), text))
  }

  it('ok/round-trips through parseDuration', () => {
    for (const ms of [0, 1, 999, 1000, 1001, 59_999, 3_600_001, 123_456_789, MAX_DURATION_MS]) {
      assert.equal(parseDuration(formatDuration(ms)), ms)
    }
  })

  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    it(`fail/${bad} is a programmer error`, () => assert.throws(() => formatDuration(bad), TypeError))
  }
})
