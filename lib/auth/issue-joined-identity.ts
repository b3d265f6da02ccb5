/** The last step of every join: certificates for the new bot identity, and the audit event. */
import { issueUserCertificates } from '../ca/issue-user-certificates.ts'
import type { Identity } from '../identity/identity.ts'
import type { LogFields } from '../log.ts'
import { recordAudit } from './audit.ts'
import type { AuthDeps } from './deps.ts'
import { type IssueResponse, issueResponse } from './issue-response.ts'
import type { CallerPublicKey } from './public-key.ts'

export interface JoinedIdentityRequest {
  readonly identity: Identity
  readonly publicKey: CallerPublicKey
  readonly now: Date
  readonly notAfter: Date
  /** Join-method facts for the `bot.join` audit event (never secrets). */
  readonly audit: LogFields
}

export async function issueJoinedIdentity(
  deps: AuthDeps,
  req: JoinedIdentityRequest,
): Promise<IssueResponse> {
  const { identity, publicKey, now, notAfter } = req
  const certs = await issueUserCertificates(
    deps.cas.user,
    { identity, publicKey, now, notAfter },
    deps.random,
  )
  await recordAudit(deps, {
    type: 'bot.join',
    user: identity.user,
    success: true,
    fields: { ...req.audit, serial: certs.serial, expires: notAfter.toISOString() },
  })
  return issueResponse(identity, certs)
}
