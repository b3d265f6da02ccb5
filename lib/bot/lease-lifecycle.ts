/**
 * Wiring of the storage lease (`leased-storage.ts`) for composition roots: which storages get
 * one, and holding it around a run.
 *
 * @example
 * const { storage, lease } = leaseBotStorage(rawStorage, config, { clock, log })
 * await withStorageLease(lease, log, () => runCycle({ ...deps, storage, lease }))
 */
import type { Clock } from '../clock.ts'
import type { Logger } from '../log.ts'
import type { Destination } from '../ports/destination.ts'
import type { BotConfig } from './config.ts'
import { LeasedStorage, type LeasedStorageOptions, type StorageLease } from './leased-storage.ts'

/**
 * How long a process waits before reading its new lease back, by storage type: a directory is
 * written in milliseconds; a Secrets Manager write is two API calls, and the read-back must see it.
 */
export function leaseSettleMs(type: BotConfig['storage']['type']): number {
  return type === 'aws_secrets_manager' ? 2000 : 250
}

/**
 * The storage a bot should use, and its lease. A `memory` storage lives and dies with its process,
 * so no other process can share it: it gets no lease (and is returned as is).
 * `overrides` are test seams (host, pid, sleep…).
 */
export function leaseBotStorage(
  storage: Destination,
  config: Pick<BotConfig, 'storage' | 'oneshot' | 'lifetime'>,
  deps: { readonly clock: Clock; readonly log: Logger },
  overrides: Partial<LeasedStorageOptions> = {},
): { storage: Destination; lease: StorageLease | undefined } {
  if (config.storage.type === 'memory') return { storage, lease: undefined }
  const leased = new LeasedStorage(storage, {
    mode: config.oneshot ? 'one-shot' : 'daemon',
    renewalIntervalMs: config.lifetime.renewalIntervalMs,
    clock: deps.clock,
    log: deps.log,
    settleMs: leaseSettleMs(config.storage.type),
    ...overrides,
  })
  return { storage: leased, lease: leased }
}

/**
 * Runs `body` holding `lease` (none: just runs it): acquires first, releases after, whether
 * `body` succeeds or throws. A failed release is logged, never thrown over `body`'s outcome: the
 * lease then lapses on its own.
 * @throws StorageInUseError from acquiring (then `body` never runs); whatever `body` throws.
 */
export async function withStorageLease<T>(
  lease: StorageLease | undefined,
  log: Logger,
  body: () => Promise<T>,
): Promise<T> {
  if (!lease) return body()
  await lease.acquire()
  try {
    return await body()
  } finally {
    await lease.release().catch((err: unknown) =>
      log.warn('could not release the lease on the bot storage; it lapses on its own', {
        error: err instanceof Error ? err.message : String(err),
      }),
    )
  }
}
