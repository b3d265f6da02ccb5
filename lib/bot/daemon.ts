/**
 * The bot's daemon mode: cycles (`bot.ts` `runCycle`) every renewal interval (±10% jitter),
 * sooner after a failure (with backoff), and at once when woken (SIGHUP/SIGUSR1 in the CLI); the
 * storage lease is confirmed before each cycle and extended after.
 */
import { type BotDeps, type CycleGate, type CycleResult, runCycle, scheduleOf } from './bot.ts'
import { StorageInUseError } from './lease-error.ts'
import type { RetryDeps } from './retry.ts'
import { failureWaitMs, jitteredIntervalMs } from './schedule-policy.ts'

export interface DaemonControl {
  /** Resolves when the next cycle should start early (a reload signal), or never. */
  readonly wake: () => Promise<void>
  /** Aborts the loop. */
  readonly signal: AbortSignal
  /**
   * Waits `ms` (or until woken/aborted). Injected so tests need no real time. Also waits between
   * the retries of a throttled output, with a wake that never resolves.
   */
  readonly sleep: (ms: number, wake: Promise<void>, signal: AbortSignal) => Promise<void>
  /** Random number in [0, 1) for jitter. */
  readonly random: () => number
  /** Called after each cycle (tests, status). */
  readonly onCycle?: (result: CycleResult | Error) => void
  /** Wait one interval before the first cycle (the caller just ran one). */
  readonly waitFirst?: boolean
  /** Every cycle runs through it (one run per bot at a time); absent: cycles run directly. */
  readonly gate?: CycleGate
}

/** Backoff after a failed cycle: 1s doubling to at most the renewal interval. */
const BASE_BACKOFF_MS = 1000

/**
 * The wait after `failures` failed cycles in a row: the backoff (× 50–100% jitter), cut to half
 * the remaining lifetime of the soonest-expiring output (`failureWaitMs`). Outputs are never
 * issued past the bot identity's expiry, so this also keeps the identity from lapsing.
 */
function failureWait(deps: BotDeps, control: DaemonControl, failures: number): number {
  const step = Math.min(
    deps.config.lifetime.renewalIntervalMs,
    BASE_BACKOFF_MS * 2 ** Math.min(failures - 1, 16),
  )
  const soonest = scheduleOf(deps).earliestNotAfter()
  const remaining = soonest && soonest.getTime() - deps.clock.now().getTime()
  return failureWaitMs(step * (0.5 + 0.5 * control.random()), remaining, BASE_BACKOFF_MS)
}

/**
 * Runs cycles until aborted: every renewal interval ±10%, sooner after a failure (with backoff,
 * never sleeping through more than half of an output's remaining lifetime).
 * The first cycle (or, with `waitFirst`, the first after a wake) and every cycle started by a wake
 * renew all outputs; the others renew only the due ones. Throttled outputs are retried within
 * the cycle through `control.sleep`. With a lease, each cycle starts by confirming it and ends by
 * extending it when due.
 * @throws StorageInUseError when another bot process holds the storage's lease: the daemon stops
 *   at once instead of renewing an identity that process renews too.
 */
export async function runDaemon(deps: BotDeps, control: DaemonControl): Promise<void> {
  const interval = deps.config.lifetime.renewalIntervalMs
  const startedAt = deps.clock.now()
  const retry: RetryDeps = {
    // A fresh never-resolving wake per sleep: a retry must not consume a reload request.
    sleep: (ms) => control.sleep(ms, new Promise<void>(() => {}), control.signal),
    random: control.random,
    signal: control.signal,
  }
  let failures = 0
  // The first cycle renews everything, unless the caller just ran one (then the schedule knows).
  let renew: 'all' | 'due' = 'all'
  if (control.waitFirst)
    renew = await sleepOrWake(deps, control, jitteredIntervalMs(interval, control.random()))
  while (!control.signal.aborted) {
    let wait: number
    deps.log.debug('renewal cycle starting', { renew })
    try {
      await deps.lease?.confirm()
      // Not `onCycle?.(await runCycle())`: optional chaining would skip the cycle itself when
      // no observer is set.
      const cycle = () => runCycle(deps, { startedAt, renew, retry })
      const result = control.gate
        ? await control.gate.scheduled(plannedOutputs(deps, renew), cycle)
        : await cycle()
      control.onCycle?.(result)
      // A cycle with a failed output is retried sooner, like a failed cycle.
      const failed = result.outputs.filter((o) => !o.ok).length
      failures = failed === 0 ? 0 : failures + 1
      wait =
        failed === 0 ? jitteredIntervalMs(interval, control.random()) : failureWait(deps, control, failures)
    } catch (err) {
      if (err instanceof StorageInUseError) return stopForLease(deps, control, err)
      failures++
      const message = err instanceof Error ? err.message : String(err)
      deps.log.error('renewal cycle failed', { error: message, attempt: failures })
      control.onCycle?.(err instanceof Error ? err : new Error(message)) // no side effects in the argument
      wait = failureWait(deps, control, failures)
    }
    if (control.signal.aborted) break
    await extendLease(deps, control)
    renew = await sleepOrWake(deps, control, wait)
  }
}

/** The outputs a cycle starting now would renew (due ones are decided at the start). */
function plannedOutputs(deps: BotDeps, renew: 'all' | 'due'): string[] {
  const now = deps.clock.now()
  const schedule = scheduleOf(deps)
  return deps.config.outputs.filter((o) => renew === 'all' || schedule.isDue(o.name, now)).map((o) => o.name)
}

/**
 * Sleeps through `control`; `all` when a wake ended the sleep (a reload asks for everything to be
 * renewed now), else `due`. The flag's reaction is registered before the sleep's, so it is set
 * by the time the sleep returns. The schedule knows the planned end of the sleep meanwhile (the
 * status endpoint's `next_run`).
 */
async function sleepOrWake(deps: BotDeps, control: DaemonControl, ms: number): Promise<'all' | 'due'> {
  let woken = false
  const wake = control.wake()
  void wake.then(() => {
    woken = true
  })
  const schedule = scheduleOf(deps)
  schedule.planNextRun(new Date(deps.clock.now().getTime() + ms))
  try {
    await control.sleep(ms, wake, control.signal)
  } finally {
    schedule.planNextRun(undefined)
  }
  return woken ? 'all' : 'due'
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
