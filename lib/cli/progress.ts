/**
 * Progress lines for long operations (`start`, `bot oneshot`, `auth bootstrap`): on stderr, and
 * only when it is a terminal, so pipes and logs stay quiet and stdout stays pure data.
 */
import type { CliIo } from './context.ts'

export interface Progress {
  /** Announces a step (`joining the auth service…`). */
  step(text: string): void
}

export function progressFor(io: CliIo): Progress {
  if (io.interactive !== true) return { step: () => {} }
  return { step: (text) => io.stderr(`… ${text}`) }
}
