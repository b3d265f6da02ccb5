/**
 * The response shape shared by join, renewal and impersonated issuance: the two certificates and
 * the identity they carry. CA material is not repeated here: clients read it from `/v1/cas` once
 * per cycle (it changes only on rotation), which keeps every issuance response small.
 */
import type { UserCertificates } from '../ca/issue-user-certificates.ts'
import type { Identity } from '../identity/identity.ts'

export interface IssueResponse {
  readonly tls_cert: string
  readonly ssh_cert: string
  readonly serial: string
  readonly not_before: string
  readonly not_after: string
  readonly identity: {
    readonly user: string
    readonly roles: readonly string[]
    readonly logins: readonly string[]
    readonly bot_name?: string
    readonly bot_instance_id?: string
    readonly generation: number
    readonly renewable: boolean
    readonly disallow_reissue: boolean
    readonly impersonator?: string
  }
}

export function issueResponse(identity: Identity, certs: UserCertificates): IssueResponse {
  return {
    tls_cert: certs.tlsCertPem,
    ssh_cert: certs.sshCert,
    serial: certs.serial,
    not_before: certs.notBefore.toISOString(),
    not_after: certs.notAfter.toISOString(),
    identity: {
      user: identity.user,
      roles: identity.roles,
      logins: identity.logins,
      ...(identity.botName !== undefined && { bot_name: identity.botName }),
      ...(identity.botInstanceId !== undefined && { bot_instance_id: identity.botInstanceId }),
      generation: identity.generation,
      renewable: identity.renewable,
      disallow_reissue: identity.disallowReissue,
      ...(identity.impersonator !== undefined && { impersonator: identity.impersonator }),
    },
  }
}
