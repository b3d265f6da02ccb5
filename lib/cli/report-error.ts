/**
 * How a failed command ends: one line `error [CODE]: message` on stderr, then `hint: …` when we
 * know what usually fixes it, and the exit code (1 an error to act on, 2 usage, 3 internal).
 */
import { type BrokerError, isBrokerError } from '../errors.ts'
import type { CliIo } from './context.ts'
import { UsageError } from './usage-error.ts'

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
export const EXIT_INTERNAL = 3

/** Prints `err` and returns the exit code. `helpFor`: the command line to get help on. */
export function reportError(io: CliIo, err: unknown, helpFor: string): number {
  if (!isBrokerError(err)) {
    io.stderr(`internal error: ${err instanceof Error ? err.message : String(err)}`)
    return EXIT_INTERNAL
  }
  io.stderr(`error [${err.code}]: ${err.message}`)
  const hint = err instanceof UsageError ? `credbroker help ${helpFor}`.trimEnd() : hintFor(err)
  if (hint !== undefined) io.stderr(`hint: ${hint}`)
  return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE
}

function hintFor(err: BrokerError): string | undefined {
  switch (err.code) {
    case 'ERR_UNAUTHENTICATED':
      return 'get a fresh admin identity: credbroker login, or restart credbroker start / auth start (they rewrite <state>/admin/)'
    case 'ERR_UPSTREAM_UNAVAILABLE':
      return 'is the auth service running there? check --auth-server / CREDBROKER_AUTH_SERVER'
    case 'ERR_ACCESS_DENIED':
      return /\block\b/.test(err.message)
        ? 'credbroker locks ls shows the lock; on the auth host, credbroker locks rm <id> lifts it'
        : undefined
    case 'ERR_REVISION_MISMATCH':
      return 'someone changed it meanwhile: read it again and retry'
    default:
      return undefined
  }
}
