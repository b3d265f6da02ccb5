/** Process signals for the daemon: SIGINT/SIGTERM stop it, SIGHUP/SIGUSR1 renew at once. */

/** An AbortSignal that fires on SIGINT or SIGTERM. */
export function abortOnSignals(): AbortSignal {
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return controller.signal
}

/** Resolves on the next SIGHUP or SIGUSR1 (the reload signals of tbot). */
export function reloadSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGHUP', done)
      process.off('SIGUSR1', done)
      resolve()
    }
    process.once('SIGHUP', done)
    process.once('SIGUSR1', done)
  })
}

/** Waits `ms`, or less when woken or aborted. */
export function sleepUntil(ms: number, wake: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    const finish = () => {
      clearTimeout(timer)
      resolve()
    }
    wake.then(finish)
    signal.addEventListener('abort', finish, { once: true })
  })
}
