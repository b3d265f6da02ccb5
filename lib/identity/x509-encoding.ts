/**
 * An {@link Identity} in an X.509 certificate, and back.
 *
 * - Subject: `CN=<user>`, then one `O=<role>` per role (readable by any TLS peer).
 * - Extension {@link IDENTITY_EXTENSION_OID}, non-critical: a UTF8String holding the identity as
 *   JSON (`IdentityJson` below, snake_case, version `v: 1`). It is the source of truth; the
 *   subject is informational.
 */

import * as z from 'zod'
import { oid } from '../ca/der.ts'
import { findExtensionValue, readTlv } from '../ca/der-reader.ts'
import { type Extension, textExtension } from '../ca/x509/extensions.ts'
import { encodeName, NameAttribute } from '../ca/x509/name.ts'
import { UnauthenticatedError } from '../errors.ts'
import { IDENTITY_EXTENSION_OID, type Identity } from './identity.ts'

const stringList = z.array(z.string().max(256)).max(256)

const identityJson = z.strictObject({
  v: z.literal(1),
  user: z.string().min(1).max(256),
  roles: stringList,
  logins: stringList,
  bot_name: z.string().max(256).optional(),
  bot_instance_id: z.string().max(64).optional(),
  generation: z.number().int().min(0),
  renewable: z.boolean(),
  disallow_reissue: z.boolean(),
  impersonator: z.string().max(256).optional(),
  routes: z
    .strictObject({
      database: z
        .strictObject({
          service: z.string(),
          protocol: z.string(),
          username: z.string(),
          database: z.string().optional(),
        })
        .optional(),
      kubernetes_cluster: z.string().optional(),
      app: z.string().optional(),
    })
    .optional(),
  kubernetes_users: stringList.optional(),
  kubernetes_groups: stringList.optional(),
  database_names: stringList.optional(),
  database_users: stringList.optional(),
  aws_role_arns: stringList.optional(),
})

type IdentityJson = z.infer<typeof identityJson>

const IDENTITY_OID_DER = oid(IDENTITY_EXTENSION_OID)

/** DER subject Name for an identity. */
export function identitySubject(identity: Identity): Buffer {
  return encodeName([
    [NameAttribute.commonName, identity.user],
    ...identity.roles.map((role) => [NameAttribute.organization, role] as const),
  ])
}

/** The identity extension. */
export function identityExtension(identity: Identity): Extension {
  return textExtension(IDENTITY_EXTENSION_OID, JSON.stringify(toJson(identity)))
}

/**
 * Reads the identity from a certificate already verified as issued by a trusted CA.
 * @throws UnauthenticatedError when the certificate carries no well-formed identity.
 */
export function decodeIdentity(certificateDer: Uint8Array): Identity {
  let raw: Uint8Array | undefined
  try {
    raw = findExtensionValue(certificateDer, IDENTITY_OID_DER)
  } catch {
    throw new UnauthenticatedError('the certificate cannot be parsed')
  }
  if (!raw) throw new UnauthenticatedError('the certificate carries no credbroker identity')
  // extnValue holds a DER UTF8String: tag 0x0c, length, text.
  const text = readUtf8String(Buffer.from(raw))
  let parsed: IdentityJson
  try {
    parsed = identityJson.parse(JSON.parse(text ?? ''))
  } catch {
    throw new UnauthenticatedError('the certificate carries a malformed credbroker identity')
  }
  return fromJson(parsed)
}

function readUtf8String(der: Buffer): string | undefined {
  try {
    const tlv = readTlv(der, 0)
    return tlv.tag === 0x0c && tlv.end === der.length ? der.subarray(tlv.start).toString('utf8') : undefined
  } catch {
    return undefined
  }
}

function toJson(identity: Identity): IdentityJson {
  const r = identity.routes
  return dropUndefined({
    v: 1 as const,
    user: identity.user,
    roles: [...identity.roles],
    logins: [...identity.logins],
    bot_name: identity.botName,
    bot_instance_id: identity.botInstanceId,
    generation: identity.generation,
    renewable: identity.renewable,
    disallow_reissue: identity.disallowReissue,
    impersonator: identity.impersonator,
    routes: r && dropUndefined({ database: r.database, kubernetes_cluster: r.kubernetesCluster, app: r.app }),
    kubernetes_users: identity.kubernetesUsers && [...identity.kubernetesUsers],
    kubernetes_groups: identity.kubernetesGroups && [...identity.kubernetesGroups],
    database_names: identity.databaseNames && [...identity.databaseNames],
    database_users: identity.databaseUsers && [...identity.databaseUsers],
    aws_role_arns: identity.awsRoleArns && [...identity.awsRoleArns],
  })
}

function fromJson(j: IdentityJson): Identity {
  const r = j.routes
  return dropUndefined({
    user: j.user,
    roles: j.roles,
    logins: j.logins,
    botName: j.bot_name,
    botInstanceId: j.bot_instance_id,
    generation: j.generation,
    renewable: j.renewable,
    disallowReissue: j.disallow_reissue,
    impersonator: j.impersonator,
    routes: r && dropUndefined({ database: r.database, kubernetesCluster: r.kubernetes_cluster, app: r.app }),
    kubernetesUsers: j.kubernetes_users,
    kubernetesGroups: j.kubernetes_groups,
    databaseNames: j.database_names,
    databaseUsers: j.database_users,
    awsRoleArns: j.aws_role_arns,
  }) as Identity
}

/** Removes keys whose value is undefined, so encodings are stable and compare equal. */
function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}
