/**
 * The bot (the `tbot` of credbroker): each cycle it refreshes its own identity, then for every
 * output impersonates the output's roles and writes the credentials to the output's destination.
 * One-shot mode runs one cycle; daemon mode repeats every renewal interval (±10% jitter), backs
 * off on errors, and runs at once when asked (SIGHUP/SIGUSR1 in the CLI).
 */
import { hostname } from 'node:os'
import type { IssueResponse } from '../auth/issue-response.ts'
import type { Clock } from '../clock.ts'
import { isBrokerError } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { Destination } from '../ports/destination.ts'
import type { AuthClient, CaBundleResponse } from './auth-client.ts'
import { type AwsJoinDeps, type BotIdentity, refreshBotIdentity } from './bot-identity.ts'
import type { BotConfig, OutputConfig } from './config.ts'
import { StorageInUseError } from './lease-error.ts'
import type { StorageLease } from './leased-storage.ts'
import { issueOutput } from './outputs/issue.ts'
import { RsaKeyPool } from './rsa-key-pool.ts'

/** Reported in heartbeats. */
export const VERSION = '0.1.0'

export interface BotDeps {
  readonly config: BotConfig
  readonly client: AuthClient
  /** The bot's internal storage; the `LeasedStorage` behind {@link lease} when there is one. */
  readonly storage: Destination
  /**
   * The lease on `storage` (`leased-storage.ts`), held by the caller around the run (see
   * `withStorageLease`). The daemon confirms it before each cycle and extends it after; absent
   * for storages no other process can share (memory) and for callers that guard otherwise.
   */
  readonly lease?: StorageLease | undefined
  /** One destination per output, by output name. */
  readonly destinations: ReadonlyMap<string, Destination>
  readonly clock: Clock
  readonly log: Logger
  /** AWS region and credentials for `join_method: iam` (built by the composition root). */
  readonly aws?: AwsJoinDeps | undefined
}

export type OutputResult =
  | {
      readonly output: string
      readonly ok: true
      readonly destination: string
      readonly serial: string
      readonly notAfter: string
      /** SSH principals: logins of an identity, host names of a host certificate. */
      readonly principals: readonly string[]
      /** The impersonated identity's issuance; absent for host certificates. */
      readonly issued?: IssueResponse
    }
  | {
      readonly output: string
      readonly ok: false
      readonly destination: string
      readonly code: string
      readonly message: string
    }

export interface CycleResult {
  readonly identity: BotIdentity
  readonly outputs: readonly OutputResult[]
}

export interface CycleOptions {
  /** The first cycle of this process (reported in the heartbeat). */
  readonly isStartup?: boolean
  /** When the process started, for the heartbeat's uptime. */
  readonly startedAt?: Date
}

/**
 * One cycle: refresh the bot identity, renew every output, send a heartbeat. Output failures do
 * not stop the others; a failed heartbeat is only logged.
 */
/** One RSA key pool per bot (its deps), kept across daemon cycles; see rsa-key-pool.ts. */
const rsaPools = new WeakMap<BotDeps, RsaKeyPool>()

function rsaPoolOf(deps: BotDeps): RsaKeyPool | undefined {
  if (!deps.config.outputs.some((o) => o.type === 'database' && o.keyAlgorithm === 'rsa-2048'))
    return undefined
  let pool = rsaPools.get(deps)
  if (!pool) {
    pool = new RsaKeyPool()
    rsaPools.set(deps, pool)
  }
  return pool
}

export async function runCycle(deps: BotDeps, options: CycleOptions = {}): Promise<CycleResult> {
  const rsa = rsaPoolOf(deps)
  rsa?.warm() // generates while the bot joins
  const identity = await refreshBotIdentity(deps)
  const cas = await deps.client.cas()
  const outputs: OutputResult[] = []
  for (const output of deps.config.outputs) outputs.push(await renewOutput(deps, identity, cas, output, rsa))
  const now = deps.clock.now()
  await deps.client
    .heartbeat(identity, {
      hostname: hostname(),
      version: VERSION,
      one_shot: deps.config.oneshot,
      is_startup: options.isStartup ?? false,
      uptime_seconds: Math.max(0, Math.round((now.getTime() - (options.startedAt ?? now).getTime()) / 1000)),
    })
    .catch((err: unknown) =>
      deps.log.warn('heartbeat failed', { error: err instanceof Error ? err.message : String(err) }),
    )
  return { identity, outputs }
}

async function renewOutput(
  deps: BotDeps,
  identity: BotIdentity,
  cas: CaBundleResponse,
  output: OutputConfig,
  rsa: RsaKeyPool | undefined,
): Promise<OutputResult> {
  const destination = deps.destinations.get(output.name)
  if (!destination) throw new TypeError(`no destination built for output ${output.name}`)
  const where = destination.describe()
  try {
    const issued = await issueOutput(deps.client, identity, cas, output, rsa)
    await destination.write(issued.artifacts, { issuanceId: issued.serial, metadata: issued.metadata })
    deps.log.info(`${issued.log.message} for ${where}`, issued.log.fields)
    return {
      output: output.name,
      ok: true,
      destination: where,
      serial: issued.serial,
      notAfter: issued.notAfter,
      principals: issued.principals,
      ...(issued.issued && { issued: issued.issued }),
    }
  } catch (err) {
    const code = isBrokerError(err) ? err.code : 'ERR_INTERNAL'
    const message = err instanceof Error ? err.message : String(err)
    deps.log.error(`Failed to generate impersonated certs for ${where}: ${message}`, {
      output: output.name,
      code,
    })
    return { output: output.name, ok: false, destination: where, code, message }
  }
}

export interface DaemonControl {
  /** Resolves when the next cycle should start early (a reload signal), or never. */
  readonly wake: () => Promise<void>
  /** Aborts the loop. */
  readonly signal: AbortSignal
  /** Waits `ms` (or until woken/aborted). Injected so tests need no real time. */
  readonly sleep: (ms: number, wake: Promise<void>, signal: AbortSignal) => Promise<void>
  /** Random number in [0, 1) for jitter. */
  readonly random: () => number
  /** Called after each cycle (tests, status). */
  readonly onCycle?: (result: CycleResult | Error) => void
  /** Wait one interval before the first cycle (the caller just ran one). */
  readonly waitFirst?: boolean
}

/** Backoff after a failed cycle: 1s doubling to at most the renewal interval. */
const BASE_BACKOFF_MS = 1000

/**
 * Runs cycles until aborted: every renewal interval ±10%, sooner after a failure (with backoff).
 * With a lease, each cycle starts by confirming it and ends by extending it when due.
 * @throws StorageInUseError when another bot process holds the storage's lease: the daemon stops
 *   at once instead of renewing an identity that process renews too.
 */
export async function runDaemon(deps: BotDeps, control: DaemonControl): Promise<void> {
  const interval = deps.config.lifetime.renewalIntervalMs
  const startedAt = deps.clock.now()
  let failures = 0
  if (control.waitFirst)
    await control.sleep(interval * (0.9 + 0.2 * control.random()), control.wake(), control.signal)
  while (!control.signal.aborted) {
    let wait: number
    deps.log.debug('renewal cycle starting')
    try {
      await deps.lease?.confirm()
      // Not `onCycle?.(await runCycle())`: optional chaining would skip the cycle itself when
      // no observer is set.
      const result = await runCycle(deps, { startedAt })
      control.onCycle?.(result)
      // A cycle with a failed output is retried sooner, like a failed cycle.
      const failed = result.outputs.filter((o) => !o.ok).length
      failures = failed === 0 ? 0 : failures + 1
      wait =
        failed === 0
          ? interval * (0.9 + 0.2 * control.random())
          : Math.min(interval, BASE_BACKOFF_MS * 2 ** Math.min(failures - 1, 16)) *
            (0.5 + 0.5 * control.random())
    } catch (err) {
      if (err instanceof StorageInUseError) return stopForLease(deps, control, err)
      failures++
      const message = err instanceof Error ? err.message : String(err)
      deps.log.error('renewal cycle failed', { error: message, attempt: failures })
      control.onCycle?.(err instanceof Error ? err : new Error(message)) // no side effects in the argument
      wait =
        Math.min(interval, BASE_BACKOFF_MS * 2 ** Math.min(failures - 1, 16)) * (0.5 + 0.5 * control.random())
    }
    if (control.signal.aborted) break
    await extendLease(deps, control)
    await control.sleep(wait, control.wake(), control.signal)
  }
}

/** After a cycle: keeps the lease from lapsing when the cycle wrote nothing to the storage. */
async function extendLease(deps: BotDeps, control: DaemonControl): Promise<void> {
  try {
    await deps.lease?.extendIfDue()
  } catch (err) {
    if (err instanceof StorageInUseError) return stopForLease(deps, control, err)
    // The storage failed: the next cycle's confirm tries again (the lease has 1.5 intervals left).
    deps.log.warn('could not extend the lease on the bot storage', {
      error: err instanceof Error ? err.message : String(err),
    })
  }
}

function stopForLease(deps: BotDeps, control: DaemonControl, err: StorageInUseError): never {
  deps.log.error('another bot process holds the bot storage; stopping', { error: err.message })
  control.onCycle?.(err)
  throw err
}
