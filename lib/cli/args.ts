/**
 * Command-line option parsing: positionals plus `--flag value`, `--flag=value`, `-f value`,
 * boolean `--flag` (or `--flag=true|false`) and repeatable list options. Unknown options are
 * usage errors, so a typo never silently changes behaviour; `--` ends the options.
 *
 * Specs double as documentation: `description` and `value` are what `--help` and docs/CLI.md show.
 */
import { UsageError } from './usage-error.ts'

export interface FlagSpec {
  /** `string` takes one value; `boolean` none; `list` one value per occurrence (repeatable). */
  readonly type: 'string' | 'boolean' | 'list'
  /** One-letter alias, e.g. `f` for `--file`. */
  readonly short?: string
  /** The value's placeholder in help (`FILE`, `DURATION`); defaults to `VALUE`. */
  readonly value?: string
  /** One line for `--help`. */
  readonly description: string
  /** Accepted but not shown in help (kept for old command lines, e.g. `--json`). */
  readonly hidden?: boolean
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>

export type FlagValue = string | boolean | readonly string[]

export interface ParsedArgs {
  readonly positionals: readonly string[]
  readonly flags: Readonly<Record<string, FlagValue>>
}

/**
 * @throws UsageError (`unknown option --team`, `option --user needs a value`) for a command line
 *   that does not fit `spec`.
 * @example
 * parseArgs(['ci', '--roles', 'access'], { roles: { type: 'string', description: '…' } })
 * // { positionals: ['ci'], flags: { roles: 'access' } }
 */
export function parseArgs(argv: readonly string[], spec: FlagSpecs): ParsedArgs {
  const positionals: string[] = []
  const flags: Record<string, FlagValue> = {}
  const byShort = new Map(
    Object.entries(spec).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])),
  )
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg)
      continue
    }
    const [name, inline] = arg.startsWith('--')
      ? splitOnce(arg.slice(2))
      : [byShort.get(arg.slice(1)) ?? arg, undefined]
    const flag = spec[name]
    if (!flag) throw new UsageError(`unknown option ${arg.split('=')[0]}`)
    if (flag.type === 'boolean') {
      flags[name] = booleanValue(name, inline)
      continue
    }
    const value = inline ?? argv[++i]
    if (value === undefined) throw new UsageError(`option --${name} needs a value`)
    if (flag.type === 'list') flags[name] = [...((flags[name] as readonly string[] | undefined) ?? []), value]
    else flags[name] = value
  }
  return { positionals, flags }
}

function booleanValue(name: string, inline: string | undefined): boolean {
  if (inline === undefined || inline === 'true') return true
  if (inline === 'false') return false
  throw new UsageError(`option --${name} takes no value, or =true / =false`)
}

function splitOnce(text: string): [string, string | undefined] {
  const eq = text.indexOf('=')
  return eq < 0 ? [text, undefined] : [text.slice(0, eq), text.slice(eq + 1)]
}

/** Typed readers for parsed flags. */
export function stringFlag(flags: ParsedArgs['flags'], name: string): string | undefined {
  const value = flags[name]
  return typeof value === 'string' ? value : undefined
}

export function booleanFlag(flags: ParsedArgs['flags'], name: string): boolean | undefined {
  const value = flags[name]
  return typeof value === 'boolean' ? value : undefined
}

export function listFlag(flags: ParsedArgs['flags'], name: string): readonly string[] {
  const value = flags[name]
  return Array.isArray(value) ? value : []
}
