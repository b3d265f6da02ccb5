import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DurationError } from '../../../lib/duration.ts'
import { clampTtl, DEFAULT_MAX_SESSION_TTL_MS, type TtlInput, type TtlResult } from '../../../lib/rbac/ttl.ts'
import { HOUR, MINUTE, role } from './fixtures.ts'

const NOW = Date.UTC(2026, 0, 1)
const DAY = 24 * HOUR
const r8h = role('eight-hours', { options: { max_session_ttl: '8h' } })
const r90m = role('ninety-minutes', { options: { max_session_ttl: '1h30m' } })
const unset = role('unset')

describe('clampTtl', () => {
  const base: TtlInput = { requestedMs: HOUR, roles: [], serverMaxMs: DAY, nowMs: NOW }
  const cases: Array<[string, Partial<TtlInput>, TtlResult]> = [
    ['ok/request fits every limit', { roles: [r8h] }, { ttlMs: HOUR, limitedBy: 'requested' }],
    [
      'ok/clamped by a role',
      { requestedMs: 10 * HOUR, roles: [r8h] },
      { ttlMs: 8 * HOUR, limitedBy: 'role:eight-hours' },
    ],
    [
      'ok/the smallest role wins',
      { requestedMs: 10 * HOUR, roles: [r8h, r90m] },
      { ttlMs: 90 * MINUTE, limitedBy: 'role:ninety-minutes' },
    ],
    [
      'ok/role without max_session_ttl uses the 12h default',
      { requestedMs: DAY, roles: [unset] },
      { ttlMs: 12 * HOUR, limitedBy: 'role:unset' },
    ],
    [
      'ok/default is configurable',
      { requestedMs: DAY, roles: [unset], defaultMaxSessionTtlMs: 2 * HOUR },
      { ttlMs: 2 * HOUR, limitedBy: 'role:unset' },
    ],
    [
      'ok/clamped by the server',
      { requestedMs: 10 * HOUR, roles: [r8h], serverMaxMs: 4 * HOUR },
      { ttlMs: 4 * HOUR, limitedBy: 'server' },
    ],
    [
      'ok/clamped by the identity expiry',
      { roles: [r8h], notAfterMs: NOW + 20 * MINUTE },
      { ttlMs: 20 * MINUTE, limitedBy: 'identity' },
    ],
    [
      'ok/tie goes to requested',
      { requestedMs: 8 * HOUR, roles: [r8h], notAfterMs: NOW + 8 * HOUR },
      { ttlMs: 8 * HOUR, limitedBy: 'requested' },
    ],
    [
      'ok/tie between role and server goes to the role',
      { requestedMs: DAY, roles: [r8h], serverMaxMs: 8 * HOUR },
      { ttlMs: 8 * HOUR, limitedBy: 'role:eight-hours' },
    ],
    [
      'fail/identity already expired gives 0',
      { roles: [r8h], notAfterMs: NOW - MINUTE },
      { ttlMs: 0, limitedBy: 'identity' },
    ],
    ['fail/identity expiring now gives 0', { notAfterMs: NOW }, { ttlMs: 0, limitedBy: 'identity' }],
    ['fail/zero requested gives 0', { requestedMs: 0 }, { ttlMs: 0, limitedBy: 'requested' }],
    [
      'fail/role with 0s gives 0',
      { roles: [role('zero', { options: { max_session_ttl: '0s' } })] },
      { ttlMs: 0, limitedBy: 'role:zero' },
    ],
  ]
  for (const [name, overrides, expected] of cases) {
    it(name, () => assert.deepEqual(clampTtl({ ...base, ...overrides }), expected))
  }

  it('ok/the default is 12 hours', () => {
    assert.equal(DEFAULT_MAX_SESSION_TTL_MS, 12 * HOUR)
  })

  const invalid: Array<[string, Partial<TtlInput>]> = [
    ['fail/negative request', { requestedMs: -1 }],
    ['fail/NaN request', { requestedMs: Number.NaN }],
    ['fail/infinite server max', { serverMaxMs: Number.POSITIVE_INFINITY }],
    ['fail/NaN now', { nowMs: Number.NaN }],
    ['fail/NaN notAfter', { notAfterMs: Number.NaN }],
    ['fail/negative default', { defaultMaxSessionTtlMs: -5 }],
  ]
  for (const [name, overrides] of invalid) {
    it(`${name} is a programmer error`, () =>
      assert.throws(() => clampTtl({ ...base, ...overrides }), TypeError))
  }

  it('fail/a malformed role duration throws DurationError', () => {
    const broken = role('broken', { options: { max_session_ttl: 'eight hours' } })
    assert.throws(() => clampTtl({ ...base, roles: [broken] }), DurationError)
  })
})
