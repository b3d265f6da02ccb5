/**
 * Role impersonation: which roles a caller (a bot's own role set) may request certificates for.
 */
import type { Role } from '../resources/types.ts'
import { type Decision, granted, quoteAll, refused, roleName } from './decision.ts'
import { matchAnyGlob } from './glob.ts'

const allows = (role: Role, requested: string): boolean =>
  matchAnyGlob(role.spec.allow.impersonate.roles, requested)
const denies = (role: Role, requested: string): boolean =>
  matchAnyGlob(role.spec.deny.impersonate.roles, requested)

/**
 * Whether `callerRoles` may impersonate **all** of `requestedRoles` at once.
 *
 * Entries of `impersonate.roles` are `*` globs (an exact name, `*`, or `dev-*`).
 * 1. Any caller role whose `deny.impersonate.roles` matches any requested role refuses.
 * 2. Otherwise **one single** caller role's `allow.impersonate.roles` must match every requested
 *    role. Two roles that each cover half of the request are not enough: a certificate carries
 *    the union of its roles' grants, and no single grant of impersonation authorised that union.
 *
 * An empty request is refused ("no roles requested"). Expanding "no roles = every role the bot
 * may impersonate" is the service's job, done with {@link impersonatableRoles} before calling.
 * The refusal reason names the requested roles no caller role covers, or, when each is covered
 * by some role but none covers them all, what each partially covering role lacks.
 *
 * @example
 * checkImpersonation([botRole], ['access', 'machine-id-db']) // { allowed: true, reason: … }
 */
export function checkImpersonation(
  callerRoles: readonly Role[],
  requestedRoles: readonly string[],
): Decision {
  if (requestedRoles.length === 0) return refused('no roles requested')
  const requested = [...new Set(requestedRoles)]
  for (const role of callerRoles) {
    const denied = requested.filter((name) => denies(role, name))
    if (denied.length > 0) return refused(`${roleName(role)} denies impersonating ${quoteAll(denied)}`)
  }
  const single = callerRoles.find((role) => requested.every((name) => allows(role, name)))
  if (single) return granted(`${roleName(single)} allows impersonating ${quoteAll(requested)}`)
  const uncovered = requested.filter((name) => !callerRoles.some((role) => allows(role, name)))
  if (uncovered.length > 0) return refused(`no role allows impersonating ${quoteAll(uncovered)}`)
  return refused(
    `no single role allows impersonating all of ${quoteAll(requested)} (${lacking(callerRoles, requested)})`,
  )
}

/** `role "a" lacks "x"; role "b" lacks "y"` for the roles that cover part of the request. */
function lacking(callerRoles: readonly Role[], requested: readonly string[]): string {
  return callerRoles
    .filter((role) => requested.some((name) => allows(role, name)))
    .map((role) => `${roleName(role)} lacks ${quoteAll(requested.filter((name) => !allows(role, name)))}`)
    .join('; ')
}

/**
 * The names in `allRoleNames` that some caller role's `allow.impersonate.roles` matches and no
 * caller role's `deny.impersonate.roles` matches, in `allRoleNames` order without duplicates.
 * This is what an empty role request expands to. Note that {@link checkImpersonation} still
 * requires one role to cover the whole expansion; a bot's role set has a single bot role that
 * lists every role the bot may impersonate, so the expansion passes for bots.
 */
export function impersonatableRoles(callerRoles: readonly Role[], allRoleNames: readonly string[]): string[] {
  return [...new Set(allRoleNames)].filter(
    (name) =>
      callerRoles.some((role) => allows(role, name)) && !callerRoles.some((role) => denies(role, name)),
  )
}
