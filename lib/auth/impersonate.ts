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
import { issueRoutedCertificate, issueUserCertificates } from '../ca/issue-user-certificates.ts'
import { AccessDeniedError, BadRequestError, type BrokerError, NotFoundError } from '../errors.ts'
import type { Identity } from '../identity/identity.ts'
import { checkImpersonation, clampTtl, impersonatableRoles, logins } from '../rbac/index.ts'
import type { Role } from '../resources/types.ts'
import { recordAudit } from './audit.ts'
import type { Caller } from './caller.ts'
import type { AuthDeps } from './deps.ts'
import { type IssueResponse, issueResponse } from './issue-response.ts'
import { assertCallerNotLocked, assertNotLocked } from './locks.ts'
import type { CallerPublicKey, RsaCallerPublicKey } from './public-key.ts'
import { allRoleNames, loadCallerRoles, loadRoles } from './roles.ts'
import { type ResolvedRoute, type RouteRequest, resolveRoute } from './route.ts'

export interface ImpersonateRequest {
  /** Roles to impersonate; empty means all the caller may impersonate. */
  readonly roles: readonly string[]
  readonly ttlMs: number
  /** RSA only with a database route (servers that need RSA client certificates). */
  readonly publicKey: CallerPublicKey | RsaCallerPublicKey
  /** The resource the certificate is for (database, Kubernetes cluster, app); see route.ts. */
  readonly route?: RouteRequest
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
    // Refusals are audited: access denied, and for routed requests a resource the roles cannot
    // see (a 404 to the caller; the log-only details say why) or a request it cannot satisfy.
    const routeRefusal =
      req.route !== undefined && (err instanceof NotFoundError || err instanceof BadRequestError)
    if (err instanceof AccessDeniedError || routeRefusal) {
      const hidden = (err as BrokerError).details?.reason
      await recordAudit(deps, {
        type: 'cert.issued',
        user: who.user,
        success: false,
        fields: {
          roles: req.roles,
          reason: err.message,
          ...(typeof hidden === 'string' && { hidden_because: hidden }),
        },
      })
    }
    throw err
  }
}

/** What an authorised impersonation request may be issued: its roles and validity window. */
export interface AuthorizedImpersonation {
  readonly requested: readonly string[]
  readonly roles: readonly Role[]
  readonly now: Date
  readonly notAfter: Date
  readonly ttlLimitedBy: string
}

/**
 * The checks every impersonated issuance makes (see the file comment), in order.
 * @throws AccessDeniedError naming what is refused; LockedError (also `ERR_ACCESS_DENIED`) when a
 *   lock targets the caller or a role it asks for.
 */
export async function authorizeImpersonation(
  deps: AuthDeps,
  caller: Caller,
  req: { readonly roles: readonly string[]; readonly ttlMs: number },
): Promise<AuthorizedImpersonation> {
  const who = caller.identity
  if (who.disallowReissue) throw new AccessDeniedError('this identity is not allowed to reissue certificates')
  if (who.impersonator !== undefined) {
    throw new AccessDeniedError('an impersonated identity cannot request further certificates')
  }
  await assertCallerNotLocked(deps, caller)
  const callerRoles = await loadCallerRoles(deps.resources, who)
  const requested =
    req.roles.length > 0
      ? [...new Set(req.roles)]
      : impersonatableRoles(callerRoles, await allRoleNames(deps.resources))
  if (requested.length === 0) throw new AccessDeniedError(`${who.user} may not impersonate any role`)
  const decision = checkImpersonation(callerRoles, requested)
  if (!decision.allowed)
    throw new AccessDeniedError(`${who.user} may not impersonate ${requested.join(', ')}: ${decision.reason}`)
  await assertNotLocked(deps, { roles: requested })
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
  return { requested, roles, now, notAfter: new Date(now.getTime() + ttl.ttlMs), ttlLimitedBy: ttl.limitedBy }
}

async function issue(deps: AuthDeps, caller: Caller, req: ImpersonateRequest): Promise<IssueResponse> {
  const who = caller.identity
  const { requested, roles, now, notAfter, ttlLimitedBy } = await authorizeImpersonation(deps, caller, req)
  const route = req.route === undefined ? undefined : await resolveRoute(deps.resources, roles, req.route)
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
    ...(route && { routes: route.routes, ...route.grants }),
  }
  const certs = await issueCertificates(deps, identity, route, req.publicKey, { now, notAfter })
  await recordAudit(deps, {
    type: 'cert.issued',
    user: who.user,
    success: true,
    fields: {
      roles: requested,
      logins: identity.logins,
      ...(route && { route: routeLabel(route) }),
      serial: certs.serial,
      expires: notAfter.toISOString(),
      ttl_limited_by: ttlLimitedBy,
    },
  })
  return issueResponse(identity, certs, route?.target)
}

/** A routed identity travels in one X.509 certificate from the route's CA; otherwise the user pair. */
function issueCertificates(
  deps: AuthDeps,
  identity: Identity,
  route: ResolvedRoute | undefined,
  publicKey: CallerPublicKey | RsaCallerPublicKey,
  window: { now: Date; notAfter: Date },
) {
  if (publicKey.type === 'rsa' && route?.routes.database === undefined) {
    throw new BadRequestError('public_key: RSA keys are accepted for database certificates only')
  }
  const req = { ...window, publicKey }
  if (route === undefined) {
    if (publicKey.type === 'rsa') throw new TypeError('unreachable: RSA without a database route')
    return issueUserCertificates(deps.cas.user, { identity, ...window, publicKey }, deps.random)
  }
  const subject = route.subject && {
    commonName: route.subject.commonName ?? identity.user,
    organizations: route.subject.organizations,
  }
  return issueRoutedCertificate(
    deps.cas[route.ca],
    { identity, ...req, ...(subject && { subject }) },
    deps.random,
  )
}

/** `database:pg`, `kubernetes:prod`, `app:grafana`: the route in audit events. */
function routeLabel(route: ResolvedRoute): string {
  const r = route.routes
  if (r.database) return `database:${r.database.service}`
  if (r.kubernetesCluster !== undefined) return `kubernetes:${r.kubernetesCluster}`
  return `app:${r.app ?? ''}`
}
