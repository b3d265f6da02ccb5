/**
 * The two checks every admin route makes: the caller is authenticated and not locked (a lock on
 * its user, one of its roles or its bot instance refuses every admin request), then its roles
 * allow the verb on the kind through `rules` (deny first).
 */
import type { Caller } from '../auth/caller.ts'
import type { AuthDeps } from '../auth/deps.ts'
import { assertCallerNotLocked } from '../auth/locks.ts'
import { loadCallerRoles } from '../auth/roles.ts'
import { AccessDeniedError } from '../errors.ts'
import { ruleAllows } from '../rbac/index.ts'
import type { CallerContext } from './auth-app.ts'

export type CallerOf = (c: CallerContext) => Promise<Caller>

export interface AdminGate {
  /** The caller, authenticated (401 before any other check) and not locked (403). */
  admitted(c: CallerContext): Promise<Caller>
  /** `caller`, when its roles allow `verb` on `kind`; AccessDeniedError otherwise. */
  authorize(caller: Caller, kind: string, verb: string): Promise<Caller>
}

export function adminGate(deps: AuthDeps, callerOf: CallerOf): AdminGate {
  return {
    async admitted(c) {
      const caller = await callerOf(c)
      await assertCallerNotLocked(deps, caller)
      return caller
    },
    async authorize(caller, kind, verb) {
      const decision = ruleAllows(await loadCallerRoles(deps.resources, caller.identity), kind, verb)
      if (!decision.allowed)
        throw new AccessDeniedError(`${caller.identity.user} may not ${verb} ${kind}: ${decision.reason}`)
      return caller
    },
  }
}
