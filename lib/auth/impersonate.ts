/**
 * Impersonated issuance, following Machine ID: a caller (a bot identity) obtains certificates
 * for roles its own roles may impersonate.
 *
 * Checks, in order: the caller may reissue (not disallow-reissue, not itself impersonated); no
 * lock targets it; the requested roles (empty = every role the caller may impersonate) are
 * covered by one of the caller's roles with no deny; the TTL is clamped by the request, the
 * requested roles' `max_session_ttl`, the server maximum and the caller's own expiry. Grants
 * (logins) come only from the requested roles. The result is disallow-reissue and names the
 * caller as impersonator. Every issuance, and every refusal, is an audit event.
 */
import { issueUserCertificates } from '../ca/issue-user-certificates.ts'
import { AccessDeniedError } from '../errors.ts'
import type { Identity } from '../identity/identity.ts'
import { checkImpersonation, clampTtl, impersonatableRoles, logins } from '../rbac/index.ts'
import { recordAudit } from './audit.ts'
import type { Caller } from './caller.ts'
import type { AuthDeps } from './deps.ts'
import { type IssueResponse, issueResponse } from './issue-response.ts'
import { assertNotLocked } from './locks.ts'
import type { CallerPublicKey } from './public-key.ts'
import { allRoleNames, loadCallerRoles, loadRoles } from './roles.ts'

export interface ImpersonateRequest {
  /** Roles to impersonate; empty means all the caller may impersonate. */
  readonly roles: readonly string[]
  readonly ttlMs: number
  readonly publicKey: CallerPublicKey
}

export async function issueImpersonated(
  deps: AuthDeps,
  caller: Caller,
  req: ImpersonateRequest,
): Promise<IssueResponse> {
  const who = caller.identity
  try {
    return await issue(deps, caller, req)
  } catch (err) {
    if (err instanceof AccessDeniedError) {
      await recordAudit(deps, {
        type: 'cert.issued',
        user: who.user,
        success: false,
        fields: { roles: req.roles, reason: err.message },
      })
    }
    throw err
  }
}

async function issue(deps: AuthDeps, caller: Caller, req: ImpersonateRequest): Promise<IssueResponse> {
  const who = caller.identity
  if (who.disallowReissue) throw new AccessDeniedError('this identity is not allowed to reissue certificates')
  if (who.impersonator !== undefined) {
    throw new AccessDeniedError('an impersonated identity cannot request further certificates')
  }
  await assertNotLocked(deps.resources, lockSubject(who))
  const callerRoles = await loadCallerRoles(deps.resources, who)
  const requested =
    req.roles.length > 0
      ? [...new Set(req.roles)]
      : impersonatableRoles(callerRoles, await allRoleNames(deps.resources))
  if (requested.length === 0) throw new AccessDeniedError(`${who.user} may not impersonate any role`)
  const decision = checkImpersonation(callerRoles, requested)
  if (!decision.allowed)
    throw new AccessDeniedError(`${who.user} may not impersonate ${requested.join(', ')}: ${decision.reason}`)
  await assertNotLocked(deps.resources, { roles: requested })
  const roles = await loadRoles(deps.resources, requested)

  const now = deps.clock.now()
  const ttl = clampTtl({
    requestedMs: req.ttlMs,
    roles,
    serverMaxMs: deps.limits.maxCertTtlMs,
    notAfterMs: caller.expires.getTime(),
    nowMs: now.getTime(),
  })
  if (ttl.ttlMs <= 0) throw new AccessDeniedError('the caller identity has expired')
  const notAfter = new Date(now.getTime() + ttl.ttlMs)
  const identity: Identity = {
    user: who.user,
    roles: requested,
    logins: logins(roles),
    ...(who.botName !== undefined && { botName: who.botName }),
    ...(who.botInstanceId !== undefined && { botInstanceId: who.botInstanceId }),
    generation: 0,
    renewable: false,
    disallowReissue: true,
    impersonator: who.user,
  }
  const certs = await issueUserCertificates(
    deps.cas.user,
    { identity, publicKey: req.publicKey, now, notAfter },
    deps.random,
  )
  await recordAudit(deps, {
    type: 'cert.issued',
    user: who.user,
    success: true,
    fields: {
      roles: requested,
      logins: identity.logins,
      serial: certs.serial,
      expires: notAfter.toISOString(),
      ttl_limited_by: ttl.limitedBy,
    },
  })
  return issueResponse(identity, certs)
}

/** The lock targets an identity presents. */
export function lockSubject(identity: Identity) {
  return {
    user: identity.user,
    roles: identity.roles,
    ...(identity.botName !== undefined &&
      identity.botInstanceId !== undefined && {
        botInstance: `${identity.botName}/${identity.botInstanceId}`,
      }),
  }
}
