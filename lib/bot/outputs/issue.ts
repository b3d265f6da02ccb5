/**
 * Issuing one output: the request each output type makes to the auth service (with the bot's
 * identity, impersonating the output's roles) and the artifacts and metadata written from the
 * answer. A fresh client key for every issuance; the server never sees a private key.
 *
 * | type                                                 | endpoint         |
 * |------------------------------------------------------|------------------|
 * | `identity`, `database`, `kubernetes`, `application`  | `/v1/certs` (routed for the last three) |
 * | `ssh_host`                                           | `/v1/certs/host` |
 * | `workload-identity-x509`, `workload-identity-jwt`    | `/v1/svid/x509`, `/v1/svid/jwt` |
 */
import { X509Certificate } from 'node:crypto'
import type { IssueResponse } from '../../auth/issue-response.ts'
import type { LogFields } from '../../log.ts'
import type { AuthClient, CaBundleResponse, ClientIdentity } from '../auth-client.ts'
import type { OutputConfig } from '../config.ts'
import { identityFields } from '../identity-summary.ts'
import { generateClientKey } from '../keys.ts'
import type { RsaKeyPool } from '../rsa-key-pool.ts'
import { outputArtifacts, outputRoute } from './render.ts'
import { sshHostArtifacts } from './ssh-host.ts'
import { jwtSvidArtifacts, x509SvidArtifacts } from './workload-identity.ts'

function rsaKey(pool: RsaKeyPool | undefined) {
  if (!pool) throw new TypeError('an rsa-2048 database output needs the RSA key pool')
  return pool.take()
}

export interface IssuedOutput {
  readonly artifacts: Map<string, string>
  readonly serial: string
  readonly notAfter: string
  /** SSH principals: logins of an identity, host names of a host certificate. */
  readonly principals: readonly string[]
  /** The impersonated identity's issuance (`/v1/certs` outputs only). */
  readonly issued?: IssueResponse
  /** Recorded next to the artifacts by destinations that keep documents (Secrets Manager). */
  readonly metadata: Readonly<Record<string, unknown>>
  /** The success log line and its fields. */
  readonly log: { readonly message: string; readonly fields: LogFields }
}

export async function issueOutput(
  client: AuthClient,
  identity: ClientIdentity,
  cas: CaBundleResponse,
  output: OutputConfig,
  /** Keys for database outputs with `key_algorithm: rsa-2048` (required for those). */
  rsa?: RsaKeyPool,
): Promise<IssuedOutput> {
  const ttlSeconds = Math.round(output.lifetime.ttlMs / 1000)
  const common = { output: output.name, output_type: output.type }
  const fingerprints = (pems: readonly string[]) => pems.map((pem) => new X509Certificate(pem).fingerprint256)
  switch (output.type) {
    case 'ssh_host': {
      const key = generateClientKey()
      const host = await client.hostCerts(identity, {
        publicKeyPem: key.publicPem,
        roles: output.roles,
        principals: output.principals,
        ttlSeconds,
      })
      return {
        artifacts: sshHostArtifacts({ key, issued: host, cas }),
        serial: host.serial,
        notAfter: host.not_after,
        principals: host.principals,
        metadata: {
          ...common,
          serial: host.serial,
          not_before: host.not_before,
          not_after: host.not_after,
          principals: host.principals,
          ca_fingerprints: fingerprints(cas.tls.host),
        },
        log: { message: 'Successfully renewed host certificate', fields: { principals: host.principals } },
      }
    }
    case 'workload-identity-x509': {
      const key = generateClientKey()
      const svid = await client.x509Svid(identity, {
        publicKeyPem: key.publicPem,
        roles: output.roles,
        path: output.path,
        ttlSeconds,
      })
      return {
        artifacts: x509SvidArtifacts({ key, svid, cas }),
        serial: svid.serial,
        notAfter: svid.not_after,
        principals: [],
        metadata: {
          ...common,
          serial: svid.serial,
          not_before: svid.not_before,
          not_after: svid.not_after,
          spiffe_id: svid.spiffe_id,
          ca_fingerprints: fingerprints(cas.tls.user),
        },
        log: { message: 'Successfully renewed X.509-SVID', fields: { spiffe_id: svid.spiffe_id } },
      }
    }
    case 'workload-identity-jwt': {
      const svid = await client.jwtSvid(identity, {
        roles: output.roles,
        path: output.path,
        audiences: output.audiences,
        ttlSeconds,
      })
      return {
        artifacts: jwtSvidArtifacts({ svid, cas }),
        serial: svid.serial,
        notAfter: svid.not_after,
        principals: [],
        metadata: {
          ...common,
          serial: svid.serial,
          not_after: svid.not_after,
          spiffe_id: svid.spiffe_id,
          audiences: svid.audiences,
        },
        log: { message: 'Successfully renewed JWT-SVID', fields: { spiffe_id: svid.spiffe_id } },
      }
    }
    case 'identity':
    case 'database':
    case 'kubernetes':
    case 'application': {
      const key =
        output.type === 'database' && output.keyAlgorithm === 'rsa-2048'
          ? await rsaKey(rsa)
          : generateClientKey()
      const route = outputRoute(output)
      const issued = await client.certs(identity, {
        publicKeyPem: key.publicPem,
        roles: output.roles,
        ttlSeconds,
        ...(route && { route }),
      })
      return {
        artifacts: outputArtifacts(output, { key, issued, cas }),
        serial: issued.serial,
        notAfter: issued.not_after,
        principals: issued.identity.logins,
        issued,
        metadata: {
          ...common,
          serial: issued.serial,
          not_before: issued.not_before,
          not_after: issued.not_after,
          roles: issued.identity.roles,
          principals: issued.identity.logins,
          ...(issued.identity.routes && { route: issued.identity.routes }),
          // The CA that issued this output's certificate: the database CA for database routes.
          ca_fingerprints: fingerprints(output.type === 'database' ? cas.tls.db : cas.tls.user),
        },
        log: { message: 'Successfully renewed impersonated certificates', fields: identityFields(issued) },
      }
    }
  }
}
