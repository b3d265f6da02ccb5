/**
 * The identity a certificate carries: who the holder is, which roles it acts with, and the flags
 * the auth service enforces (renewable, generation, disallow-reissue, impersonator).
 *
 * One identity is encoded into both certificates of an issuance:
 * - X.509 (see `x509-encoding.ts`): subject `CN=<user>`, one `O=<role>` per role, and the
 *   non-critical extension {@link IDENTITY_EXTENSION_OID} holding the whole identity as a JSON
 *   UTF8String (custom extensions stay non-critical so `openssl verify` accepts the chain).
 * - OpenSSH (see `ssh-encoding.ts`): key id `<user>`, principals = logins, and one extension per
 *   field, named `<field>@credbroker`.
 */

/** Where an impersonated certificate may be used. At most one route is set. */
export interface Routes {
  readonly database?: {
    readonly service: string
    readonly protocol: string
    readonly username: string
    readonly database?: string
  }
  readonly kubernetesCluster?: string
  readonly app?: string
}

export interface Identity {
  /** `bot-<name>` for bots, `admin` for the bootstrap administrator. */
  readonly user: string
  /** Roles the holder acts with: `bot-<name>` for a bot identity, the requested ones when impersonated. */
  readonly roles: readonly string[]
  /** SSH principals granted by the roles. */
  readonly logins: readonly string[]
  readonly botName?: string
  readonly botInstanceId?: string
  /** Renewal counter of a renewable bot identity; 0 otherwise. */
  readonly generation: number
  /** Only token-joined bot identities are renewable. */
  readonly renewable: boolean
  /** Impersonated certificates may not be used to obtain further certificates. */
  readonly disallowReissue: boolean
  /** The user that requested this impersonated identity (`bot-<name>`). */
  readonly impersonator?: string
  readonly routes?: Routes
  readonly kubernetesUsers?: readonly string[]
  readonly kubernetesGroups?: readonly string[]
  readonly databaseNames?: readonly string[]
  readonly databaseUsers?: readonly string[]
  readonly awsRoleArns?: readonly string[]
}

/**
 * OID of the X.509 identity extension, in the unassigned `1.3.9999` arc that Machine ID-style
 * systems use for private extensions (Teleport uses `1.3.9999.1.*` and `.2.*`; `.7` is ours).
 * Every arc stays below 2^31 on purpose: Go's crypto/x509 (Kubernetes API servers) and asn1js
 * reject certificates whose extension OIDs have larger arcs, so a UUID-derived `2.25.<uuid>` OID
 * would make our certificates unreadable to them. To be replaced by a registered enterprise
 * number before a stable release.
 */
export const IDENTITY_EXTENSION_OID = '1.3.9999.7.1'

/** Suffix of every credbroker SSH certificate extension name. */
export const SSH_EXTENSION_DOMAIN = '@credbroker'

/** The bot user of a bot: `bot-<name>`. */
export const botUser = (botName: string): string => `bot-${botName}`

/** The bot role of a bot: same name as its user. */
export const botRole = (botName: string): string => `bot-${botName}`
