/**
 * The response shape shared by join, renewal and impersonated issuance: the two certificates and
 * the identity they carry. CA material is not repeated here: clients read it from `/v1/cas` once
 * per cycle (it changes only on rotation), which keeps every issuance response small.
 */
import type { UserCertificates } from '../ca/issue-user-certificates.ts'
import type { Identity } from '../identity/identity.ts'

export interface IssueResponse {
  readonly tls_cert: string
  /** Absent for routed (database, Kubernetes, app) identities, which are TLS-only. */
  readonly ssh_cert?: string
  readonly serial: string
  readonly not_before: string
  readonly not_after: string
  /** Routed identities: where the resource is (see `RouteTarget` in route.ts). */
  readonly target?: { readonly uri?: string; readonly protocol?: string; readonly public_addr?: string }
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
    readonly routes?: {
      readonly database?: { service: string; protocol: string; username: string; database?: string }
      readonly kubernetes_cluster?: string
      readonly app?: string
    }
    readonly kubernetes_users?: readonly string[]
    readonly kubernetes_groups?: readonly string[]
    readonly database_users?: readonly string[]
    readonly database_names?: readonly string[]
    readonly aws_role_arns?: readonly string[]
  }
}

function routesJson(routes: NonNullable<Identity['routes']>) {
  return {
    ...(routes.database && { database: routes.database }),
    ...(routes.kubernetesCluster !== undefined && { kubernetes_cluster: routes.kubernetesCluster }),
    ...(routes.app !== undefined && { app: routes.app }),
  }
}

export function issueResponse(
  identity: Identity,
  certs: Omit<UserCertificates, 'sshCert'> & { readonly sshCert?: string },
  target?: IssueResponse['target'],
): IssueResponse {
  return {
    ...(target && { target }),
    tls_cert: certs.tlsCertPem,
    ...(certs.sshCert !== undefined && { ssh_cert: certs.sshCert }),
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
      ...(identity.routes !== undefined && { routes: routesJson(identity.routes) }),
      ...(identity.kubernetesUsers !== undefined && { kubernetes_users: identity.kubernetesUsers }),
      ...(identity.kubernetesGroups !== undefined && { kubernetes_groups: identity.kubernetesGroups }),
      ...(identity.databaseUsers !== undefined && { database_users: identity.databaseUsers }),
      ...(identity.databaseNames !== undefined && { database_names: identity.databaseNames }),
      ...(identity.awsRoleArns !== undefined && { aws_role_arns: identity.awsRoleArns }),
    },
  }
}
