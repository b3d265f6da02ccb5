/**
 * The bot (the `tbot` of credbroker): each cycle it refreshes its own identity, then for every
 * output impersonates the output's roles and writes the credentials to the output's destination.
 * One-shot mode runs one cycle; daemon mode (`daemon.ts`) repeats cycles every renewal interval.
 *
 * Which outputs a cycle renews: a one-shot run, the daemon's first cycle and a cycle started by a
 * wake renew every output (a new process does not know what the destinations hold); the daemon's
 * other cycles renew only the outputs that are due (`schedule-policy.ts`), skipping fresh ones.
 * A cycle that sees a CA rotation step that needs it (`ca-watch.ts`) renews every output. The
 * bot's own identity is renewed by every cycle. A throttled or unreachable issuance or write
 * is retried within the cycle when the caller injects a sleep (`retry.ts`; the daemon does).
 */
import { hostname } from 'node:os'
import type { IssueResponse } from '../auth/issue-response.ts'
import type { Clock } from '../clock.ts'
import { isBrokerError } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { Destination } from '../ports/destination.ts'
import type { AuthClient, CaBundleResponse } from './auth-client.ts'
import { type AwsJoinDeps, type BotIdentity, refreshBotIdentity } from './bot-identity.ts'
import { CaWatch } from './ca-watch.ts'
import type { BotConfig, OutputConfig } from './config.ts'
import type { StorageLease } from './leased-storage.ts'
import { OutputSchedule } from './output-schedule.ts'
import { issueOutput } from './outputs/issue.ts'
import { type RetryDeps, withRetry } from './retry.ts'
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
  /**
   * Per-output renewal state, written by every cycle; pass one to read it elsewhere (a status
   * endpoint). Absent: one per `deps` object, kept across its cycles.
   */
  readonly schedule?: OutputSchedule | undefined
}

export type OutputResult =
  | {
      readonly output: string
      readonly ok: true
      readonly destination: string
      readonly serial: string
      readonly notAfter: string
      /** The version the destination stored the set as (`WriteResult.versionId`). */
      readonly versionId: string
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
  /** The outputs this cycle renewed or tried to, in configuration order. */
  readonly outputs: readonly OutputResult[]
  /** Outputs left alone because they were not due (`renew: 'due'` only). */
  readonly skipped: readonly string[]
}

export interface CycleOptions {
  /** The first cycle of this process (reported in the heartbeat). */
  readonly isStartup?: boolean
  /** When the process started, for the heartbeat's uptime. */
  readonly startedAt?: Date
  /** `all` (the default): every output; `due`: only those the schedule says are due. */
  readonly renew?: 'all' | 'due'
  /** Retries throttled/unreachable issuances and writes; absent: one attempt each. */
  readonly retry?: RetryDeps
  /**
   * Only these outputs (by name) are considered; the others are neither renewed nor reported as
   * skipped. Absent: every output. Names not in the configuration are ignored (callers check).
   */
  readonly only?: readonly string[]
}

/**
 * Serializes runs (`lib/reissue/coordinator.ts` implements it): the daemon passes each cycle
 * through it so that an on-demand reissue never runs at the same time as a scheduled cycle.
 * `outputs`: the names the cycle will renew (for a reissue to join), `undefined` when unknown.
 */
export interface CycleGate {
  scheduled<T>(outputs: readonly string[] | undefined, body: () => Promise<T>): Promise<T>
}

/** One RSA key pool per bot (its deps), kept across daemon cycles; see rsa-key-pool.ts. */
const rsaPools = new WeakMap<BotDeps, RsaKeyPool>()
/** The schedule of deps that bring none, kept across daemon cycles. */
const schedules = new WeakMap<BotDeps, OutputSchedule>()
/** What each bot (its deps) saw of the CAs in its last cycle, to follow rotations. */
const caWatches = new WeakMap<BotDeps, CaWatch>()

function caWatchOf(deps: BotDeps): CaWatch {
  let watch = caWatches.get(deps)
  if (!watch) {
    watch = new CaWatch()
    caWatches.set(deps, watch)
  }
  return watch
}

/** The schedule a bot's cycles record into: `deps.schedule`, else one kept per `deps`. */
export function scheduleOf(deps: BotDeps): OutputSchedule {
  if (deps.schedule) return deps.schedule
  let schedule = schedules.get(deps)
  if (!schedule) {
    schedule = new OutputSchedule()
    schedules.set(deps, schedule)
  }
  return schedule
}

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

/**
 * One cycle: refresh the bot identity, renew the outputs (all, or only the due ones), send a
 * heartbeat. Output failures do not stop the others; a failed heartbeat is only logged. Every
 * attempt is recorded in the schedule.
 * @throws what refreshing the identity or fetching the CAs throws (no output is attempted).
 */
export async function runCycle(deps: BotDeps, options: CycleOptions = {}): Promise<CycleResult> {
  const rsa = rsaPoolOf(deps)
  rsa?.warm() // generates while the bot joins
  const identity = await refreshBotIdentity(deps)
  const cas = await deps.client.cas()
  const rotation = caWatchOf(deps).observe(cas)
  if (rotation.reissue) {
    const changes = rotation.changes.map((c) => `${c.ca} ${c.from}→${c.to}`).join(', ')
    deps.log.info('CA rotation: reissuing every output', { changes })
  }
  const schedule = scheduleOf(deps)
  // Every output, not only this cycle's: a failed or `only` cycle must leave the rest due.
  if (rotation.reissue)
    schedule.markDue(
      deps.config.outputs.map((o) => o.name),
      deps.clock.now(),
    )
  const outputs: OutputResult[] = []
  const skipped: string[] = []
  const only = options.only && new Set(options.only)
  for (const output of deps.config.outputs) {
    if (only && !only.has(output.name)) continue
    if (options.renew === 'due' && !schedule.isDue(output.name, deps.clock.now())) {
      skipped.push(output.name)
      continue
    }
    const result = await renewOutput(deps, { identity, cas, output, rsa, retry: options.retry })
    if (result.ok) {
      schedule.recordSuccess(output.name, {
        at: deps.clock.now(),
        serial: result.serial,
        notAfter: result.notAfter,
        versionId: result.versionId,
        intervalMs: deps.config.lifetime.renewalIntervalMs,
      })
    } else schedule.recordFailure(output.name, deps.clock.now(), result)
    outputs.push(result)
  }
  if (skipped.length > 0) deps.log.debug('outputs not due for renewal', { outputs: skipped.join(',') })
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
  return { identity, outputs, skipped }
}

interface RenewInput {
  readonly identity: BotIdentity
  readonly cas: CaBundleResponse
  readonly output: OutputConfig
  readonly rsa: RsaKeyPool | undefined
  readonly retry: RetryDeps | undefined
}

/**
 * Issues one output and writes it, retrying each step on its own: a write retried after a
 * throttle writes the same issuance again (same `issuanceId`), it does not issue anew.
 */
async function renewOutput(deps: BotDeps, input: RenewInput): Promise<OutputResult> {
  const { identity, cas, output, rsa, retry } = input
  const destination = deps.destinations.get(output.name)
  if (!destination) throw new TypeError(`no destination built for output ${output.name}`)
  const where = destination.describe()
  const onRetry = (step: string) => (err: unknown, n: number, delayMs: number) =>
    deps.log.warn(`${step} for ${where} failed; retrying`, {
      output: output.name,
      code: isBrokerError(err) ? err.code : 'ERR_INTERNAL',
      retry: n,
      delay_ms: Math.round(delayMs),
    })
  try {
    const issued = await withRetry(
      () => issueOutput(deps.client, identity, cas, output, rsa),
      retry,
      onRetry('issuance'),
    )
    const written = await withRetry(
      () => destination.write(issued.artifacts, { issuanceId: issued.serial, metadata: issued.metadata }),
      retry,
      onRetry('write'),
    )
    deps.log.info(`${issued.log.message} for ${where}`, issued.log.fields)
    return {
      output: output.name,
      ok: true,
      destination: where,
      serial: issued.serial,
      notAfter: issued.notAfter,
      versionId: written.versionId,
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
