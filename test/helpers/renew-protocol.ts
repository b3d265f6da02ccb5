/**
 * What the renewal test processes say to each other: the arguments of `renew-bot-runner.ts`, the
 * messages it sends its parent, and the crash points it can die at. Types and constants only, so
 * importing it runs nothing.
 */

/** Where a renewal is interrupted. */
export type CrashPoint =
  /** Before the pending renewal (new key, request id) is saved: nothing happened yet. */
  | 'before-pending'
  /** While saving the pending renewal: after `artifact` files of the new set, or before the swap. */
  | 'pending-partial'
  /** Pending renewal saved; the request not sent. */
  | 'before-request'
  /** The server committed the renewal; the process is killed before its answer arrives. */
  | 'server-committed'
  /** The answer arrived; not saved yet. */
  | 'after-response'
  /** While saving the renewed identity: after `artifact` files of the new set, or before the swap. */
  | 'result-partial'
  /** The renewed identity is saved; the process dies before using it. */
  | 'after-persist'

export const CRASH_POINTS: readonly CrashPoint[] = [
  'before-pending',
  'pending-partial',
  'before-request',
  'server-committed',
  'after-response',
  'result-partial',
  'after-persist',
]

export interface RunnerArgs {
  readonly authUrl: string
  readonly storageDir: string
  readonly token: string
  /** The instant the runner's clock is frozen at (the auth service's clock). */
  readonly nowMs: number
  readonly crash: { readonly point: CrashPoint; readonly artifact: number } | null
  readonly refreshes: number
}

export type RunnerMessage =
  | { readonly type: 'arm'; readonly requestId: string }
  | { readonly type: 'renewed'; readonly generation: number; readonly instance: string }
  | { readonly type: 'crash'; readonly point: CrashPoint }
  | { readonly type: 'failed'; readonly code: string; readonly message: string }
