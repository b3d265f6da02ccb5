/**
 * The shape of the command tree: groups (`bots`, `bots instances`) hold commands and other
 * groups; a command declares its arguments, options, examples and what it runs. Help, usage
 * checks and docs/CLI.md are all derived from these declarations, so they cannot drift apart.
 */
import type { Clock } from '../clock.ts'
import type { FlagSpecs, ParsedArgs } from './args.ts'
import type { CliIo } from './context.ts'
import type { OutputFormat } from './output.ts'

export interface ArgSpec {
  /** Shown as `<name>`. */
  readonly name: string
  readonly description: string
  /** Default true. */
  readonly required?: boolean
}

/** What a running command gets. */
export interface Invocation {
  readonly io: CliIo
  /** The command path, e.g. `['bots', 'add']`. */
  readonly path: readonly string[]
  /** Positional arguments after the command path, checked against `args`. */
  readonly args: readonly string[]
  readonly flags: ParsedArgs['flags']
  /** `--format`, else `CREDBROKER_FORMAT`, else the command's default (commands with `output`). */
  readonly format: OutputFormat
  readonly clock: Clock
}

export interface Command {
  readonly kind: 'command'
  readonly name: string
  /** One line, lower case, no final period. */
  readonly summary: string
  /** Longer explanation for `--help` (optional). */
  readonly details?: string
  readonly args?: readonly ArgSpec[]
  readonly flags?: FlagSpecs
  /** Full command lines, each a working example. */
  readonly examples: readonly string[]
  /** The command prints data: it takes `--format text|json|yaml` (default as given). */
  readonly output?: { readonly defaultFormat: OutputFormat }
  /** The command can act on a remote auth service: it takes `--auth-server` and `--identity`. */
  readonly remote?: boolean
  /** Accepted but not listed (kept for old command lines). */
  readonly hidden?: boolean
  run(inv: Invocation): Promise<number>
}

export interface Group {
  readonly kind: 'group'
  readonly name: string
  readonly summary: string
  readonly children: readonly Node[]
  /**
   * Runs when the group is given options but no subcommand (`bot -c FILE`, the command line from
   * before `bot start|oneshot` existed).
   */
  readonly fallback?: Command
}

export type Node = Command | Group
