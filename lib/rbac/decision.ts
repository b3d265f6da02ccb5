/**
 * The shape every RBAC check returns, and the small helpers that build its reasons.
 */
import type { Role } from '../resources/types.ts'

/**
 * The outcome of a check. `reason` names the role that decided, or says that nothing granted
 * the request; it is written for logs and audit events and never holds secret material. Callers
 * turn a refusal into their own caller-facing error.
 */
export interface Decision {
  readonly allowed: boolean
  readonly reason: string
}

/** A positive {@link Decision}. */
export const granted = (reason: string): Decision => ({ allowed: true, reason })

/** A negative {@link Decision}. */
export const refused = (reason: string): Decision => ({ allowed: false, reason })

/** `role "<name>"`, the way reasons name a role. */
export const roleName = (role: Role): string => `role "${role.metadata.name}"`

/** Quoted, comma-separated names for reasons: `"a", "b"`. */
export const quoteAll = (names: readonly string[]): string => names.map((name) => `"${name}"`).join(', ')
