/** Process signals for the daemon: SIGINT/SIGTERM stop it, SIGHUP/SIGUSR1 renew at once. */
import type { BotDeps, CycleGate, CycleResult } from '../bot/bot.ts'
import { runDaemon } from '../bot/daemon.ts'

/** An AbortSignal that fires on SIGINT or SIGTERM. */
export function abortOnSignals(): AbortSignal {
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return controller.signal
}

/**
 * Reload requests from SIGHUP and SIGUSR1 (tbot's reload signals). Listeners are installed once
 * for the notifier's life. A signal that arrives while nobody waits (during a cycle) is kept, so
 * the next `wake()` resolves at once instead of losing the request.
 */
export function reloadNotifier(): { wake: () => Promise<void>; close: () => void } {
  let pending = false
  let waiter: (() => void) | undefined
  const onSignal = () => {
    if (waiter) {
      const resolve = waiter
      waiter = undefined
      resolve()
    } else {
      pending = true
    }
  }
  process.on('SIGHUP', onSignal)
  process.on('SIGUSR1', onSignal)
  return {
    wake: () =>
      new Promise<void>((resolve) => {
        if (pending) {
          pending = false
          resolve()
        } else {
          waiter = resolve
        }
      }),
    close: () => {
      process.off('SIGHUP', onSignal)
      process.off('SIGUSR1', onSignal)
    },
  }
}

/** Waits `ms`, or less when woken or aborted; leaves no listener behind. */
export function sleepUntil(ms: number, wake: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const finish = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', finish)
      resolve()
    }
    const timer = setTimeout(finish, ms)
    wake.then(finish)
    signal.addEventListener('abort', finish, { once: true })
  })
}

/**
 * Runs the bot daemon on this process's signals until SIGINT/SIGTERM: SIGHUP/SIGUSR1 renew at
 * once, and the reload listeners are removed when it returns. `signal`: an {@link abortOnSignals}
 * signal the caller made earlier, so that a SIGTERM arriving before the daemon starts (while the
 * storage lease is being taken, or during a first cycle) still ends it cleanly, with the lease
 * released, instead of killing the process; by default one is made here.
 */
export async function runDaemonOnSignals(
  deps: BotDeps,
  options: {
    waitFirst?: boolean
    signal?: AbortSignal | undefined
    /** Cycles go through it (the reissue endpoint's run coordinator); absent: run directly. */
    gate?: CycleGate | undefined
    onCycle?: ((result: CycleResult | Error) => void) | undefined
  } = {},
): Promise<void> {
  const reload = reloadNotifier()
  try {
    await runDaemon(deps, {
      signal: options.signal ?? abortOnSignals(),
      wake: reload.wake,
      sleep: sleepUntil,
      random: Math.random,
      ...(options.waitFirst !== undefined && { waitFirst: options.waitFirst }),
      ...(options.gate && { gate: options.gate }),
      ...(options.onCycle && { onCycle: options.onCycle }),
    })
  } finally {
    reload.close()
  }
}
