/**
 * What every CLI command gets: configuration, the opened store, the resource service, a logger
 * and the output stream. Built once per invocation by {@link openContext}.
 */
import { openStore } from '../adapters/open-store.ts'
import { type Clock, systemClock } from '../clock.ts'
import type { Env } from '../config/env.ts'
import { type Config, loadConfig } from '../config/load-config.ts'
import { createLogger, type Logger } from '../log.ts'
import type { Store } from '../ports/store.ts'
import { ResourceService } from '../services/resource-service.ts'

export interface CliContext {
  readonly config: Config
  readonly store: Store
  readonly resources: ResourceService
  readonly clock: Clock
  readonly log: Logger
  /** Writes a line of program output (results go to stdout, logs to stderr). */
  readonly print: (text: string) => void
}

export interface CliIo {
  readonly env: Env
  readonly cwd: string
  /** Writes one line of program output. */
  readonly stdout: (text: string) => void
  /** Writes one line of errors, logs and progress. */
  readonly stderr: (text: string) => void
  /** True when stderr is a terminal: progress lines are shown only then. Default false. */
  readonly interactive?: boolean
  /** Default: the system clock. */
  readonly clock?: Clock
}

export async function openContext(io: CliIo): Promise<CliContext> {
  const config = loadConfig(io.env, io.cwd)
  const clock = io.clock ?? systemClock
  const store = await openStore(config.store, { clock })
  return {
    config,
    store,
    clock,
    resources: new ResourceService({ store, clock }),
    log: createLogger(config.logLevel, io.stderr),
    print: io.stdout,
  }
}

/** Logging and printing only, for commands that need no state store (the bot). */
export function openLoggingOnly(io: CliIo): Pick<CliContext, 'clock' | 'log' | 'print'> {
  const config = loadConfig(io.env, io.cwd)
  return { clock: io.clock ?? systemClock, log: createLogger(config.logLevel, io.stderr), print: io.stdout }
}

/** Runs `body` on a freshly opened context and closes its store afterwards. */
export async function withContext<T>(io: CliIo, body: (ctx: CliContext) => Promise<T>): Promise<T> {
  const ctx = await openContext(io)
  try {
    return await body(ctx)
  } finally {
    await ctx.store.close()
  }
}
