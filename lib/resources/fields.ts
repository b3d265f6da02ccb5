/**
 * Shared zod building blocks for resource documents: names, plain strings, bounded lists,
 * durations, instants, logins, UUIDs and network addresses. Label maps and selectors live in
 * `labels.ts`, AWS identifiers in `aws-fields.ts`.
 *
 * Every block carries its own user-facing messages, so an invalid document produces an error that
 * says what is wrong in words (`expected a list of strings`), not zod's defaults. Every string has
 * a maximum length and every list a maximum count: documents are untrusted input.
 */
import * as z from 'zod'
import { tryParseDuration } from '../duration.ts'

/** Longest resource name. 253 matches a DNS name, the longest thing a name usually mirrors. */
export const MAX_NAME_LENGTH = 253

/**
 * Resource names: 1–253 characters from `[a-zA-Z0-9._@-]`, starting with a letter or digit.
 *
 * Names become store key segments (`role/<name>`), so they are printable ASCII without `/`,
 * spaces or anything that needs escaping; `@` is allowed for names that mirror e-mail-like user
 * names. Case is preserved and significant.
 */
export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,252}$/

const NAME_PROBLEM =
  'must be 1 to 253 characters from letters, digits, ".", "_", "@" and "-", starting with a letter or digit'

/** True when `value` is a valid resource name (see {@link NAME_PATTERN}). */
export function isResourceName(value: string): boolean {
  return NAME_PATTERN.test(value)
}

/** A resource name (see {@link NAME_PATTERN}). */
export const resourceName = z.string({ error: expectString }).regex(NAME_PATTERN, NAME_PROBLEM)

/** Control characters (C0, DEL, C1) are never allowed in free text that may be printed. */
const NO_CONTROL = /^[^\p{Cc}]*$/u
/** The same, but newlines and tabs are fine (descriptions, lock messages). */
const NO_CONTROL_MULTILINE = /^(?:[^\p{Cc}]|[\n\t])*$/u

/**
 * A non-empty string of at most `max` characters, without control characters (with `multiline`,
 * newlines and tabs are allowed). The base for every free-form value.
 */
export function text(max: number, options: { allowEmpty?: boolean; multiline?: boolean } = {}) {
  const base = z
    .string({ error: expectString })
    .max(max, `must be at most ${max} characters`)
    .regex(
      options.multiline ? NO_CONTROL_MULTILINE : NO_CONTROL,
      options.multiline
        ? 'must not contain control characters other than newlines and tabs'
        : 'must not contain control characters (newlines, tabs, …)',
    )
  return options.allowEmpty ? base : base.min(1, 'must not be empty')
}

/**
 * A required list of 1–`max` items. The message for a non-list names the item type, e.g.
 * `"strings"`.
 */
export function requiredList<T extends z.ZodType>(item: T, max: number, itemsName = 'strings') {
  return z
    .array(item, {
      error: typeError(`expected a list of ${itemsName}`),
    })
    .min(1, 'must not be empty')
    .max(max, `must have at most ${max} entries`)
}

/**
 * An optional list of at most `max` items, `[]` when absent (canonical documents always carry
 * their lists).
 */
export function list<T extends z.ZodType>(item: T, max: number, itemsName = 'strings') {
  return z
    .array(item, {
      error: typeError(`expected a list of ${itemsName}`),
    })
    .max(max, `must have at most ${max} entries`)
    .default([])
}

/** A list of resource names (role names in a bot, impersonated roles), at most 64. */
export const nameList = list(resourceName, 64, 'names')

/**
 * A Go-style duration, validated with `tryParseDuration` and kept as written (`"12h"`), so a
 * document round-trips unchanged. Zero is rejected: every duration in a resource is a lifetime.
 */
export const duration = z.string({ error: expectString }).check((ctx) => {
  const result = tryParseDuration(ctx.value)
  if (!result.ok) ctx.issues.push({ code: 'custom', message: result.problem, input: ctx.value })
  else if (result.ms === 0) {
    ctx.issues.push({ code: 'custom', message: 'duration must be greater than zero', input: ctx.value })
  }
})

/**
 * RFC 3339 instants in the `date-time` profile: `2026-01-01T00:00:00Z`, optional fraction of up
 * to 9 digits, `Z` or a numeric offset. Upper-case `T` and `Z` only (what every tool writes);
 * leap seconds are not accepted because JavaScript dates cannot hold them.
 */
const INSTANT_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/

/** Milliseconds since the epoch of a valid RFC 3339 instant, or `undefined`. */
export function parseInstant(value: string): number | undefined {
  const m = INSTANT_PATTERN.exec(value)
  if (!m) return undefined
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map(Number)
  const [offsetHours, offsetMinutes] = [Number(m[9] ?? 0), Number(m[10] ?? 0)]
  // Date.parse rolls "02-30" over to March; check the calendar ourselves. (Years below 100 are
  // read as 19xx by Date.UTC, which only matters for leap days in year 0–99.)
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate()
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return undefined
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

/** An RFC 3339 instant, kept as written. */
export const instant = z
  .string({ error: expectString })
  .refine((value) => parseInstant(value) !== undefined, {
    message: 'must be an RFC 3339 instant such as "2026-01-01T00:00:00Z"',
  })

/**
 * Unix login names: 1–32 characters from `[a-zA-Z0-9._-]`, not starting with `-` or `.`. This is
 * the portable POSIX user name set (what `useradd` accepts by default, with upper case added), so
 * a login can never smuggle shell or `sshd` principal syntax (`,`, spaces, `*`).
 */
export const login = z
  .string({ error: expectString })
  .regex(
    /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,31}$/,
    'must be a Unix login name: 1 to 32 characters from letters, digits, ".", "_" and "-", not starting with "." or "-"',
  )

/** A lower-case RFC 4122 UUID (as `crypto.randomUUID()` produces): the id of a bot instance. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** A UUID (see {@link UUID_PATTERN}). */
export const uuid = z
  .string({ error: expectString })
  .regex(UUID_PATTERN, 'must be a lower-case UUID such as "3f2c0b7e-8d1a-4c56-9e0f-2b7a4d1c9e85"')

const HOSTNAME =
  /^(?=.{1,253}$)[a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?)*$/
const IPV6 = /^\[[0-9a-fA-F:.]{2,45}\]$/

/** True for a DNS hostname (labels of letters, digits, `-`, `_`) or an IPv4 address. */
export function isHostname(value: string): boolean {
  return HOSTNAME.test(value)
}

/** A DNS hostname or IPv4 address (see {@link isHostname}). */
export const hostname = z
  .string({ error: expectString })
  .refine(isHostname, 'must be a hostname such as "db.example.com" or an IPv4 address')

/**
 * `host:port`: a hostname, IPv4 address or bracketed IPv6 address, then a port from 1 to 65535.
 * Used for the addresses the bot connects to (database `uri`, node `addr`).
 */
export const hostPort = z.string({ error: expectString }).refine(
  (value) => {
    const colon = value.lastIndexOf(':')
    if (colon <= 0) return false
    const host = value.slice(0, colon)
    const port = value.slice(colon + 1)
    if (!/^[1-9]\d{0,4}$/.test(port) || Number(port) > 65535) return false
    return isHostname(host) || IPV6.test(host)
  },
  { message: 'must be "host:port" with a port from 1 to 65535, such as "127.0.0.1:5432"' },
)

/** An absolute URL with one of `schemes` and a host. */
export function url(schemes: readonly string[]) {
  const list = schemes.map((s) => `${s}://`).join(', ')
  return text(2048).refine(
    (value) => {
      if (!URL.canParse(value)) return false
      const parsed = new URL(value)
      return schemes.includes(parsed.protocol.slice(0, -1)) && parsed.hostname !== ''
    },
    { message: `must be an absolute URL starting with ${list}` },
  )
}

/**
 * A schema-level error map that words a wrong type (`expected a list of strings`) and leaves a
 * missing value to the generic `is required`.
 */
export function typeError(message: string) {
  return (iss: { code: string; input?: unknown }): string | undefined =>
    iss.code === 'invalid_type' && iss.input !== undefined ? message : undefined
}

/** Error map for a string schema's type check. */
function expectString(iss: { code: string; input?: unknown }): string | undefined {
  if (iss.code !== 'invalid_type') return undefined
  return typeof iss.input === 'number' || typeof iss.input === 'boolean'
    ? `expected a string, got ${typeof iss.input} ${String(iss.input)} (quote it in YAML)`
    : undefined
}
