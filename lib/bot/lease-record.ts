/**
 * The lease on a bot's internal storage, as stored in it: which bot process uses the storage, and
 * until when. Pure data and policy; the reads and writes are in `leased-storage.ts`, the design in
 * docs/RENEWAL.md ("One bot process per storage").
 *
 * The lease is one artifact, {@link LEASE_ARTIFACT}, of the storage's set, so it lives wherever
 * the storage does (a directory, a Secrets Manager secret) and is replaced atomically with it.
 *
 * A lease is *held* until its `expires_at`; after that (or once released, which sets `expires_at`
 * to the release time) anyone may take it. Times are compared against the reading process's
 * clock, so hosts that share a storage need synchronised clocks (as for the directory lock).
 */

/** The artifact holding the lease, beside `state.json` and the identity. */
export const LEASE_ARTIFACT = 'lease.json'

/** A daemon renews every renewal interval; a one-shot run takes the lease for one cycle. */
export type LeaseMode = 'daemon' | 'one-shot'

/** `lease.json`. */
export interface LeaseRecord {
  /** Random per process (128 bits, hex): tells this process's lease from any other's. */
  readonly holder: string
  /** `os.hostname()` of the holder, for the message a second process prints. */
  readonly host: string
  readonly pid: number
  readonly mode: LeaseMode
  /** ISO 8601: when the holder took the lease (kept while it extends it). */
  readonly acquired_at: string
  /** ISO 8601: when the lease lapses unless extended. */
  readonly expires_at: string
  /** ISO 8601: set by a clean release (then `expires_at` is the same instant). */
  readonly released_at?: string
}

/** How long a one-shot run's lease lasts: short, so a crashed run blocks the next one briefly. */
export const ONE_SHOT_LEASE_MS = 2 * 60_000

/**
 * How long a lease lasts, and how old its last write may get before the holder writes it again.
 *
 * A daemon's lease lasts two renewal intervals (40 min with the default 20 min) and is extended
 * by every write to the storage: each cycle's renewal writes the storage. When a cycle wrote
 * nothing (the auth service is down), the daemon writes the lease alone once its last write is
 * half an interval old. So at the end of every cycle the lease has at least 1.5 intervals left,
 * and the next cycle (at most 1.1 intervals later) still finds it held. Writing no more often
 * than that matters for Secrets Manager, where every write is a secret version and AWS advises
 * against more than one version per 10 minutes.
 *
 * A one-shot run takes {@link ONE_SHOT_LEASE_MS}, extended by its own writes, and releases it.
 */
export function leaseTiming(
  mode: LeaseMode,
  renewalIntervalMs: number,
): { readonly ttlMs: number; readonly refreshAfterMs: number } {
  if (mode === 'one-shot') return { ttlMs: ONE_SHOT_LEASE_MS, refreshAfterMs: ONE_SHOT_LEASE_MS / 2 }
  const ttlMs = Math.max(2 * renewalIntervalMs, ONE_SHOT_LEASE_MS)
  return { ttlMs, refreshAfterMs: Math.max(renewalIntervalMs / 2, 1000) }
}

/** What a process finds when it looks at the lease. */
export type LeaseStanding =
  /** No lease: a fresh storage, or one written by a bot that keeps no lease. */
  | { readonly kind: 'free' }
  /** Not a lease we can read (corrupt, or a newer format): treated as free, with a warning. */
  | { readonly kind: 'unreadable' }
  | { readonly kind: 'ours'; readonly record: LeaseRecord }
  /** Another process's lease, released or past its expiry: free to take. */
  | { readonly kind: 'lapsed'; readonly record: LeaseRecord }
  /** Another process holds it. */
  | { readonly kind: 'held'; readonly record: LeaseRecord }

/** Classifies the stored lease for the process `holder` at `now`. */
export function standingOf(bytes: Uint8Array | undefined, holder: string, now: Date): LeaseStanding {
  if (bytes === undefined) return { kind: 'free' }
  const record = parseLease(bytes)
  if (record === undefined) return { kind: 'unreadable' }
  if (record.holder === holder) return { kind: 'ours', record }
  return Date.parse(record.expires_at) <= now.getTime()
    ? { kind: 'lapsed', record }
    : { kind: 'held', record }
}

/** The stored form of a lease. */
export function encodeLease(record: LeaseRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`
}

/** @returns the lease, or `undefined` when `bytes` is not one. */
export function parseLease(bytes: Uint8Array): LeaseRecord | undefined {
  let value: Partial<Record<keyof LeaseRecord, unknown>>
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8')) as typeof value
  } catch {
    return undefined
  }
  const ok =
    typeof value === 'object' &&
    value !== null &&
    typeof value.holder === 'string' &&
    typeof value.host === 'string' &&
    Number.isSafeInteger(value.pid) &&
    (value.mode === 'daemon' || value.mode === 'one-shot') &&
    isInstant(value.acquired_at) &&
    isInstant(value.expires_at) &&
    (value.released_at === undefined || isInstant(value.released_at))
  return ok ? (value as LeaseRecord) : undefined
}

const isInstant = (v: unknown): v is string => typeof v === 'string' && Number.isFinite(Date.parse(v))
