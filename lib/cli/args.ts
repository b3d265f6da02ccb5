/**
 * Minimal command-line parsing: positional arguments plus `--flag value`, `--flag=value` and
 * boolean `--flag`. Unknown flags are errors, so a typo never silently changes behaviour.
 */
import { BadRequestError } from '../errors.ts'

export interface FlagSpec {
  /** `string` flags take a value; `boolean` flags do not. */
  readonly type: 'string' | 'boolean'
  /** One-letter alias, e.g. `f` for `--file`. */
  readonly short?: string
}

export interface ParsedArgs {
  readonly positionals: readonly string[]
  readonly flags: Readonly<Record<string, string | boolean>>
}

export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, FlagSpec>>): ParsedArgs {
  const positionals: string[] = []
  const flags: Record<string, string | boolean> = {}
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
    const [rawName, inline] = arg.startsWith('--')
      ? splitOnce(arg.slice(2))
      : [byShort.get(arg.slice(1)) ?? arg, undefined]
    const flag = spec[rawName]
    if (!flag) throw new BadRequestError(`unknown option ${arg}`)
    if (flag.type === 'boolean') {
      if (inline !== undefined) throw new BadRequestError(`option --${rawName} takes no value`)
      flags[rawName] = true
      continue
    }
    const value = inline ?? argv[++i]
    if (value === undefined) throw new BadRequestError(`option --${rawName} needs a value`)
    flags[rawName] = value
  }
  return { positionals, flags }
}

function splitOnce(text: string): [string, string | undefined] {
  const eq = text.indexOf('=')
  return eq < 0 ? [text, undefined] : [text.slice(0, eq), text.slice(eq + 1)]
}
