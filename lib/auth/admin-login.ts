/**
 * Administrator login by AWS IAM, with no stored secret: an IAM principal on the auth
 * configuration's list (`deps.iam.admins`, see lib/join/iam/admin-allow-list.ts) proves itself
 * exactly as an `iam` join does — a signed, unsent `sts:GetCallerIdentity` carrying a fresh
 * single-use server challenge in a signed header, checked and forwarded to STS by the server
 * (lib/join/iam/sts-proof.ts) — and receives a short-lived administrator identity.
 *
 * Unlike the join, the signed request must also name this auth service: the signed header
 * `x-credbroker-audience` holds the origin the client addressed, and it must equal the origin of
 * `deps.publicAddr` (the address proofs of possession are checked against). Otherwise a server an
 * operator logs in to (another stage, a mistyped URL, a man in the middle on plain http) could
 * relay this service's challenge, have the operator sign it, and log in here with its own key.
 *
 * Order: the challenge the request names is consumed first (no refusal leaves it usable); the
 * public key; the signed request (its audience: `ERR_IAM_BAD_HEADERS`) and STS's answer, each
 * check with its own `ERR_IAM_*` code; the allow-list (`ERR_IAM_NOT_ALLOWED`, 403, with one
 * message whoever asks, so a refusal tells nothing about the list); locks on the administrator's user or roles (`ERR_ACCESS_DENIED`, 403).
 *
 * The identity: the grant's user and roles, no logins, TTL as asked (default
 * {@link ADMIN_LOGIN_DEFAULT_TTL_MS}) clamped to {@link ADMIN_LOGIN_MAX_TTL_MS}, not renewable and
 * `disallow-reissue` (like the embedded mode's bootstrap identity, lib/auth/admin.ts): it logs in
 * again when it expires. Every attempt, refused or not, is an `admin.login` audit event with the
 * AWS account and ARN once STS has named them; never the signed request or the key.
 */
import { issueUserCertificates } from '../ca/issue-user-certificates.ts'
import { AccessDeniedError, IamJoinError, isBrokerError } from '../errors.ts'
import type { Identity } from '../identity/identity.ts'
import { matchAdminRules } from '../join/iam/admin-allow-list.ts'
import type { CallerIdentity } from '../join/iam/allow-rules.ts'
import { type IssuedChallenge, issueChallenge } from '../join/iam/challenge.ts'
import {
  ADMIN_LOGIN_CHALLENGE_OWNER,
  consumeNamedChallenges,
  stsTransport,
  verifyStsProof,
} from '../join/iam/sts-proof.ts'
import type { StsRequest } from '../join/iam/sts-request.ts'
import { recordAudit } from './audit.ts'
import type { AuthDeps } from './deps.ts'
import { type IssueResponse, issueResponse } from './issue-response.ts'
import { assertNotLocked } from './locks.ts'
import { parseCallerPublicKey } from './public-key.ts'

export const ADMIN_LOGIN_DEFAULT_TTL_MS = 3600_000
export const ADMIN_LOGIN_MAX_TTL_MS = 12 * 3600_000

export interface AdminLoginRequest {
  /** The client's public key (PEM), as sent: parsed after the challenge is consumed. */
  readonly publicKeyPem: string
  /** Asked lifetime; absent: {@link ADMIN_LOGIN_DEFAULT_TTL_MS}; clamped to the maximum. */
  readonly ttlMs?: number
  readonly sts: StsRequest
}

/** The certificates and identity, plus the AWS principal STS named. */
export interface AdminLoginResponse extends IssueResponse {
  readonly aws_account: string
  readonly aws_arn: string
}

/**
 * `POST /v1/admin/login/iam/challenge`.
 * @throws AccessDeniedError when no principal may log in (the list is empty): nothing is stored
 */
export async function issueAdminLoginChallenge(deps: AuthDeps): Promise<IssuedChallenge> {
  if ((deps.iam?.admins ?? []).length === 0)
    throw new AccessDeniedError('administrator login with AWS IAM is not enabled on this auth service')
  return issueChallenge(deps, ADMIN_LOGIN_CHALLENGE_OWNER)
}

/** What is known about an attempt, for its audit event. */
interface Attempt {
  who?: CallerIdentity
  user?: string
  roles?: readonly string[]
}

/** `POST /v1/admin/login/iam`; see the module comment for the checks and their codes. */
export async function loginAdminWithIam(deps: AuthDeps, req: AdminLoginRequest): Promise<AdminLoginResponse> {
  const attempt: Attempt = {}
  try {
    return await login(deps, req, attempt)
  } catch (err) {
    if (isBrokerError(err)) {
      await recordAudit(deps, {
        type: 'admin.login',
        user: attempt.user ?? 'unknown',
        success: false,
        fields: { method: 'iam', code: err.code, ...auditFields(attempt) },
      }).catch((auditErr: unknown) =>
        deps.log.error('audit of a refused admin login failed', { error: String(auditErr) }),
      )
    }
    throw err
  }
}

async function login(deps: AuthDeps, req: AdminLoginRequest, attempt: Attempt): Promise<AdminLoginResponse> {
  // First of all, so that no refusal (not even a malformed key) leaves the challenge usable.
  const challengeOwner = await consumeNamedChallenges(deps, req.sts.headers)
  const publicKey = parseCallerPublicKey(req.publicKeyPem)
  const who = await verifyStsProof({
    sts: req.sts,
    challengeOwner,
    expectedOwner: ADMIN_LOGIN_CHALLENGE_OWNER,
    audience: { origin: new URL(deps.publicAddr).origin, request: 'the signed request' },
    badChallengeMessage: 'the challenge is missing, unknown, used, expired or not for an administrator login',
    extraStsHosts: deps.iam?.extraStsHosts ?? [],
    transport: stsTransport(deps.iam?.transport),
  })
  attempt.who = who
  const grant = matchAdminRules(deps.iam?.admins ?? [], who)
  if (!grant) {
    // One message for every refused principal: the list is not for callers to explore.
    throw new IamJoinError('ERR_IAM_NOT_ALLOWED', 'this AWS identity may not log in as an administrator')
  }
  attempt.user = grant.user
  attempt.roles = grant.roles
  await assertNotLocked(deps, { user: grant.user, roles: grant.roles })

  const identity: Identity = {
    user: grant.user,
    roles: grant.roles,
    logins: [],
    generation: 0,
    renewable: false,
    disallowReissue: true,
  }
  const now = deps.clock.now()
  const ttlMs = Math.min(req.ttlMs ?? ADMIN_LOGIN_DEFAULT_TTL_MS, ADMIN_LOGIN_MAX_TTL_MS)
  const notAfter = new Date(now.getTime() + ttlMs)
  const certs = await issueUserCertificates(
    deps.cas.user,
    { identity, publicKey, now, notAfter },
    deps.random,
  )
  await recordAudit(deps, {
    type: 'admin.login',
    user: grant.user,
    success: true,
    fields: { method: 'iam', ...auditFields(attempt), serial: certs.serial, expires: notAfter.toISOString() },
  })
  return { ...issueResponse(identity, certs), aws_account: who.account, aws_arn: who.arn }
}

function auditFields(attempt: Attempt) {
  return {
    ...(attempt.who && { aws_account: attempt.who.account, aws_arn: attempt.who.arn }),
    ...(attempt.roles && { roles: attempt.roles }),
  }
}
