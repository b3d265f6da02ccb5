/**
 * The resource model: versioned documents in the `kind / version / metadata / spec` shape.
 *
 * These types are the *canonical* form of each document: what the validators in this folder
 * return after parsing YAML or JSON, what the service layer stores (as JSON) and what the admin
 * API returns. Canonical means: every optional list is present (possibly empty), label selector
 * values are always arrays, durations and instants stay in their written string form
 * (`"12h"`, RFC 3339) so a document round-trips unchanged. Pure code (RBAC, joins) reads these
 * types; only the validators construct them from untrusted input.
 */

/** Every resource kind. The string is also the first segment of the kind's store keys. */
export type ResourceKind =
  | 'role'
  | 'bot'
  | 'token'
  | 'bot_instance'
  | 'lock'
  | 'db'
  | 'kube_cluster'
  | 'app'
  | 'node'

/** The only document version this release reads and writes. */
export type ResourceVersion = 'v1'

/** Labels on a registered resource: exact strings. */
export type Labels = Readonly<Record<string, string>>

/**
 * A label selector in a role: each key (or `*`) maps to value globs where `*` matches any run of
 * characters. `{'*': ['*']}` matches every resource; an empty selector matches none.
 */
export type LabelSelector = Readonly<Record<string, readonly string[]>>

export interface Metadata {
  /** Unique within the kind. */
  readonly name: string
  readonly description?: string
  readonly labels: Labels
  /** RFC 3339 instant after which the resource is gone (the store hides it). */
  readonly expires?: string
  /** Store revision; set on documents read from the store, ignored on input. */
  readonly revision?: string
}

interface Doc<K extends ResourceKind, S> {
  readonly kind: K
  readonly version: ResourceVersion
  readonly metadata: Metadata
  readonly spec: S
}

// ---------------------------------------------------------------------------------------------
// role

export interface Rule {
  /** Resource kinds (`db`, `db_server`, `kube_cluster`, `app`, `node`, `cert_authority`, …) or `*`. */
  readonly resources: readonly string[]
  /** `read`, `list`, `create`, `update`, `delete`, `read_no_secrets` or `*`. */
  readonly verbs: readonly string[]
}

export interface RoleConditions {
  readonly logins: readonly string[]
  readonly node_labels: LabelSelector
  readonly db_labels: LabelSelector
  readonly db_names: readonly string[]
  readonly db_users: readonly string[]
  readonly kubernetes_labels: LabelSelector
  readonly kubernetes_groups: readonly string[]
  readonly kubernetes_users: readonly string[]
  readonly app_labels: LabelSelector
  readonly aws_role_arns: readonly string[]
  /** SPIFFE ID paths (globs) workload identity outputs may be issued for. */
  readonly spiffe: readonly string[]
  readonly rules: readonly Rule[]
  readonly impersonate: { readonly roles: readonly string[] }
}

export interface RoleOptions {
  /** Go-style duration (`"8h"`, `"30m"`); certificates issued for the role never live longer. */
  readonly max_session_ttl?: string
}

export interface RoleSpec {
  readonly allow: RoleConditions
  readonly deny: RoleConditions
  readonly options: RoleOptions
}

export type Role = Doc<'role', RoleSpec>

// ---------------------------------------------------------------------------------------------
// bot, token

export interface Trait {
  readonly name: string
  readonly values: readonly string[]
}

export interface BotSpec {
  /** Roles the bot may impersonate. */
  readonly roles: readonly string[]
  readonly traits: readonly Trait[]
  readonly max_session_ttl?: string
}

export type Bot = Doc<'bot', BotSpec>

export type JoinMethod = 'token' | 'iam'

export interface IamAllowRule {
  /** 12-digit AWS account id, matched exactly. */
  readonly aws_account?: string
  /** ARN glob with `*` and `?`, anchored at both ends. */
  readonly aws_arn?: string
}

export interface TokenSpec {
  readonly join_method: JoinMethod
  readonly bot_name: string
  /** Required and non-empty for `iam`; must be empty for `token`. */
  readonly allow: readonly IamAllowRule[]
}

/** A join token. For `token` joins the name is the secret. */
export type Token = Doc<'token', TokenSpec>

// ---------------------------------------------------------------------------------------------
// bot_instance

export interface Authentication {
  readonly authenticated_at: string
  readonly join_method: JoinMethod
  /** Token name for `iam` joins; for `token` joins, never the secret itself. */
  readonly join_token?: string
  readonly generation: number
  /** SHA-256 fingerprint of the public key the identity was issued for. */
  readonly public_key_fingerprint?: string
  /** `iam` joins: the AWS account STS reported for the caller. */
  readonly aws_account?: string
  /** `iam` joins: the caller ARN STS reported. */
  readonly aws_arn?: string
}

export interface Heartbeat {
  readonly recorded_at: string
  readonly hostname: string
  readonly version: string
  readonly one_shot: boolean
  readonly is_startup: boolean
  readonly uptime_seconds: number
}

export interface BotInstanceSpec {
  readonly bot_name: string
  readonly instance_id: string
  readonly previous_instance_id?: string
}

/**
 * The last renewal committed for a renewable bot instance: what a retry of that same renewal
 * must match to be answered again instead of being treated as a generation mismatch (see
 * docs/RENEWAL.md). Replaced by every renewal, so only the latest one is ever retryable.
 */
export interface LastRenewal {
  /** The bot's random id for the renewal, the same on every retry of it. */
  readonly request_id: string
  /** The generation the renewal moved the instance to (the presented one + 1). */
  readonly generation: number
  /** SHA-256 fingerprint of the public key the renewed identity is for. */
  readonly public_key_fingerprint: string
  /** notAfter of the renewed identity; a retry gets a certificate with this same notAfter. */
  readonly not_after: string
  readonly committed_at: string
}

export interface BotInstanceStatus {
  /** Generation of the latest renewable identity issued to this instance (0 when none). */
  readonly generation: number
  /** Absent until the instance's first renewal. */
  readonly last_renewal?: LastRenewal
  readonly initial_authentication?: Authentication
  /** Most recent last; at most {@link HISTORY_LIMIT}. */
  readonly latest_authentications: readonly Authentication[]
  /** Most recent last; at most {@link HISTORY_LIMIT}. */
  readonly latest_heartbeats: readonly Heartbeat[]
}

/** A bot instance. `metadata.name` equals `spec.instance_id`. */
export interface BotInstance extends Doc<'bot_instance', BotInstanceSpec> {
  readonly status: BotInstanceStatus
}

/** How many authentications and heartbeats a bot instance keeps. */
export const HISTORY_LIMIT = 10

// ---------------------------------------------------------------------------------------------
// lock

export interface LockTarget {
  readonly user?: string
  readonly role?: string
  /** `<bot name>/<instance id>`. */
  readonly bot_instance?: string
  readonly join_token?: string
}

export interface LockSpec {
  /** Exactly one target field is set. */
  readonly target: LockTarget
  readonly message: string
  /** Who created the lock (`admin`, `cli`, `credbroker` for generation locks); informational. */
  readonly created_by?: string
  /** RFC 3339 instant the lock was created; informational. */
  readonly created_at?: string
}

export type Lock = Doc<'lock', LockSpec>

// ---------------------------------------------------------------------------------------------
// registered resources

export type DatabaseProtocol = 'postgres' | 'mysql' | 'mongodb' | 'cockroachdb'

export interface DatabaseSpec {
  readonly protocol: DatabaseProtocol
  /** `host:port` the database listens on. */
  readonly uri: string
}

export type Database = Doc<'db', DatabaseSpec>

export interface KubeClusterSpec {
  /** API server URL, when known. */
  readonly server?: string
}

export type KubeCluster = Doc<'kube_cluster', KubeClusterSpec>

export interface AppSpec {
  readonly uri: string
  readonly public_addr?: string
}

export type App = Doc<'app', AppSpec>

export interface NodeSpec {
  readonly hostname: string
  /** `host:port` of the node's SSH service. */
  readonly addr: string
}

export type Node = Doc<'node', NodeSpec>

// ---------------------------------------------------------------------------------------------

/** Any resource document. */
export type Resource = Role | Bot | Token | BotInstance | Lock | Database | KubeCluster | App | Node

/** The document type of one kind. */
export type ResourceOf<K extends ResourceKind> = Extract<Resource, { kind: K }>

/** Registered resources: what roles grant access to by labels. */
export type RegisteredResource = Database | KubeCluster | App | Node
