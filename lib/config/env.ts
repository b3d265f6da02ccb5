/**
 * Typed readers for environment variables. Each error names the variable, so a misconfigured
 * deployment says exactly which setting to fix.
 */
import { InvalidConfigError } from '../errors.ts'

/** A read-only view of the environment (`process.env` in production, a literal in tests). */
export type Env = Readonly<Record<string, string | undefined>>

/**
 * One environment variable a loader reads, as documented. Each loader exports the list of its
 * variables; its doc comment points to that list, and `scripts/gen-config-reference.ts` renders
 * it into docs/CONFIGURATION.md, so the reference and the loader cannot drift apart (a test
 * checks that every variable a loader reads is listed). Markdown is allowed in the texts.
 */
export interface EnvVariable {
  readonly name: string
  readonly meaning: string
  /** What applies when the variable is unset; absent when there is no default. */
  readonly default?: string
}

/** The variable's trimmed value, or `undefined` when unset or blank. */
export function optionalString(env: Env, name: string): string | undefined {
  const raw = env[name]
  if (raw === undefined) return undefined
  const value = raw.trim()
  return value === '' ? undefined : value
}

/** The variable's value; fails when unset or blank. */
export function requiredString(env: Env, name: string, why: string): string {
  const value = optionalString(env, name)
  if (value === undefined) throw new InvalidConfigError(name, `is required ${why}`)
  return value
}

/** One of `allowed`, or `fallback` when unset. */
export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = optionalString(env, name)
  if (value === undefined) return fallback
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InvalidConfigError(name, `must be one of ${allowed.join(', ')} (got "${value}")`)
  }
  return value as T
}

/** An absolute http(s) URL without credentials, or `undefined` when unset. */
export function optionalUrl(env: Env, name: string): URL | undefined {
  const value = optionalString(env, name)
  if (value === undefined) return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InvalidConfigError(name, 'must be an absolute URL such as http://127.0.0.1:5000')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidConfigError(name, 'must use http or https')
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidConfigError(name, 'must not carry credentials')
  }
  return url
}

/** An integer within [min, max], or `fallback` when unset. */
export function integerIn(env: Env, name: string, min: number, max: number, fallback: number): number {
  const value = optionalString(env, name)
  if (value === undefined) return fallback
  if (!/^-?\d+$/.test(value)) throw new InvalidConfigError(name, `must be an integer (got "${value}")`)
  const n = Number(value)
  if (n < min || n > max) throw new InvalidConfigError(name, `must be from ${min} to ${max} (got ${n})`)
  return n
}

/** A value matching `pattern`, described by `shape` in the error, or `fallback` when unset. */
export function matching(env: Env, name: string, pattern: RegExp, shape: string, fallback: string): string {
  const value = optionalString(env, name) ?? fallback
  if (!pattern.test(value)) throw new InvalidConfigError(name, `must be ${shape} (got "${value}")`)
  return value
}
