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
  const request = { roles: output.roles, ttlSeconds }
  switch (output.type) {
    case 'ssh_host': {
      const key = generateClientKey()
      const host = await client.hostCerts(identity, {
        ...request,
        publicKeyPem: key.publicPem,
        principals: output.principals,
      })
      return described(output, host, {
        artifacts: sshHostArtifacts({ key, issued: host, cas }),
        principals: host.principals,
        metadata: { principals: host.principals, ca_fingerprints: fingerprints(cas.tls.host) },
        log: ['Successfully renewed host certificate', { principals: host.principals }],
      })
    }
    case 'workload-identity-x509': {
      const key = generateClientKey()
      const svid = await client.x509Svid(identity, {
        ...request,
        publicKeyPem: key.publicPem,
        path: output.path,
      })
      return described(output, svid, {
        artifacts: x509SvidArtifacts({ key, svid, cas }),
        metadata: { spiffe_id: svid.spiffe_id, ca_fingerprints: fingerprints(cas.tls.user) },
        log: ['Successfully renewed X.509-SVID', { spiffe_id: svid.spiffe_id }],
      })
    }
    case 'workload-identity-jwt': {
      const svid = await client.jwtSvid(identity, {
        ...request,
        path: output.path,
        audiences: output.audiences,
      })
      return described(output, svid, {
        artifacts: jwtSvidArtifacts({ svid, cas }),
        metadata: { spiffe_id: svid.spiffe_id, audiences: svid.audiences },
        log: ['Successfully renewed JWT-SVID', { spiffe_id: svid.spiffe_id }],
      })
    }
    case 'identity':
    case 'database':
    case 'kubernetes':
    case 'application': {
      const rsaKey = output.type === 'database' && output.keyAlgorithm === 'rsa-2048'
      const key = rsaKey ? await takeRsaKey(rsa) : generateClientKey()
      const route = outputRoute(output)
      const issued = await client.certs(identity, {
        ...request,
        publicKeyPem: key.publicPem,
        ...(route && { route }),
      })
      return described(output, issued, {
        artifacts: outputArtifacts(output, { key, issued, cas }),
        principals: issued.identity.logins,
        issued,
        metadata: {
          roles: issued.identity.roles,
          principals: issued.identity.logins,
          ...(issued.identity.routes && { route: issued.identity.routes }),
          // The CA that issued this output's certificate: the database CA for database routes.
          ca_fingerprints: fingerprints(output.type === 'database' ? cas.tls.db : cas.tls.user),
        },
        log: ['Successfully renewed impersonated certificates', identityFields(issued)],
      })
    }
  }
}

/** An issuance's serial and validity, whatever the endpoint. */
interface Validity {
  readonly serial: string
  readonly not_before?: string
  readonly not_after: string
}

/** The common shape of every output's result: serial, validity and output named in the metadata. */
function described(
  output: OutputConfig,
  validity: Validity,
  parts: {
    artifacts: Map<string, string>
    principals?: readonly string[]
    issued?: IssueResponse
    metadata: Readonly<Record<string, unknown>>
    log: readonly [string, LogFields]
  },
): IssuedOutput {
  return {
    artifacts: parts.artifacts,
    serial: validity.serial,
    notAfter: validity.not_after,
    principals: parts.principals ?? [],
    ...(parts.issued && { issued: parts.issued }),
    metadata: {
      output: output.name,
      output_type: output.type,
      serial: validity.serial,
      ...(validity.not_before !== undefined && { not_before: validity.not_before }),
      not_after: validity.not_after,
      ...parts.metadata,
    },
    log: { message: parts.log[0], fields: parts.log[1] },
  }
}

function fingerprints(pems: readonly string[]): string[] {
  return pems.map((pem) => new X509Certificate(pem).fingerprint256)
}

function takeRsaKey(pool: RsaKeyPool | undefined) {
  if (!pool) throw new TypeError('an rsa-2048 database output needs the RSA key pool')
  return pool.take()
}
