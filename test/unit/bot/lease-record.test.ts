/**
 * The storage lease as data (lib/bot/lease-record.ts): how long it lasts, how a stored lease is
 * classified, what is not a lease.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  encodeLease,
  type LeaseRecord,
  leaseTiming,
  ONE_SHOT_LEASE_MS,
  parseLease,
  standingOf,
} from '../../../lib/bot/lease-record.ts'

const MINUTE = 60_000
const NOW = new Date(Date.UTC(2026, 0, 1, 12))
const bytes = (text: string) => new TextEncoder().encode(text)

const record: LeaseRecord = {
  holder: 'a'.repeat(32),
  host: 'h1',
  pid: 4242,
  mode: 'daemon',
  acquired_at: '2026-01-01T11:50:00.000Z',
  expires_at: '2026-01-01T12:30:00.000Z',
}

describe('Function: leaseTiming', () => {
  it('ok/a daemon lease lasts two renewal intervals and is rewritten after half of one', () => {
    assert.deepEqual(leaseTiming('daemon', 20 * MINUTE), { ttlMs: 40 * MINUTE, refreshAfterMs: 10 * MINUTE })
  })

  it('ok/a short renewal interval still gets at least the one-shot lease', () => {
    assert.deepEqual(leaseTiming('daemon', 30_000), { ttlMs: ONE_SHOT_LEASE_MS, refreshAfterMs: 15_000 })
  })

  it('ok/a one-shot lease is short whatever the interval', () => {
    assert.equal(leaseTiming('one-shot', 20 * MINUTE).ttlMs, 2 * MINUTE)
  })
})

describe('Function: standingOf', () => {
  const other = 'b'.repeat(32)
  const cases: [name: string, stored: Uint8Array | undefined, kind: string][] = [
    ['ok/nothing stored is free', undefined, 'free'],
    [
      'ok/our own lease is ours, even past its expiry',
      bytes(encodeLease({ ...record, holder: other })),
      'ours',
    ],
    ['ok/another live lease is held', bytes(encodeLease(record)), 'held'],
    [
      'ok/another lease past its expiry has lapsed',
      bytes(encodeLease({ ...record, expires_at: '2026-01-01T12:00:00.000Z' })),
      'lapsed',
    ],
    [
      'ok/a released lease has lapsed',
      bytes(encodeLease({ ...record, expires_at: NOW.toISOString(), released_at: NOW.toISOString() })),
      'lapsed',
    ],
    ['fail/garbage is unreadable', bytes('{not json'), 'unreadable'],
    [
      'fail/a lease without a pid is unreadable',
      bytes(JSON.stringify({ ...record, pid: 'x' })),
      'unreadable',
    ],
    [
      'fail/an unknown mode is unreadable',
      bytes(JSON.stringify({ ...record, mode: 'forever' })),
      'unreadable',
    ],
    [
      'fail/a bad instant is unreadable',
      bytes(JSON.stringify({ ...record, expires_at: 'soon' })),
      'unreadable',
    ],
  ]
  for (const [name, stored, kind] of cases) {
    it(name, () => {
      const holder = name.includes('our own') ? other : 'c'.repeat(32)
      const at = name.includes('our own') ? new Date(Date.UTC(2027, 0, 1)) : NOW
      assert.equal(standingOf(stored, holder, at).kind, kind)
    })
  }

  it('ok/a lease round-trips through its stored form', () => {
    assert.deepEqual(parseLease(bytes(encodeLease(record))), record)
  })
})
