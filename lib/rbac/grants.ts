/**
 * What a certificate may carry: the grants of the roles it impersonates.
 *
 * List grants (logins, database users and names, Kubernetes users and groups, AWS role ARNs) are
 * the union of the roles' `allow` lists minus every value matched by a glob in any role's `deny`
 * list of the same field; a deny of `*` removes everything. Allowed values are kept as written:
 * an allowed `*` means "any" and stays `*`.
 */
import type { App, Database, KubeCluster, Role, RoleConditions } from '../resources/types.ts'
import { type Decision, granted, refused, roleName } from './decision.ts'
import { matchAnyGlob } from './glob.ts'
import { matchLabels } from './labels.ts'
import { resourceVisible, rolesMatching } from './role-set.ts'

type ListField = (conditions: RoleConditions) => readonly string[]

/**
 * The union of `field` over `allowRoles`' allow side minus every value matched by a deny glob of
 * `denyRoles`. Deny entries count even from roles whose labels do not match the resource, so a
 * deny cannot be defeated by a label mismatch (stricter than Teleport, which scopes deny lists by
 * label). Deduplicated and sorted (code-unit order) so certificates are stable whatever order the
 * roles came in.
 */
function unionMinusDeny(allowRoles: readonly Role[], denyRoles: readonly Role[], field: ListField): string[] {
  const denied = denyRoles.flatMap((role) => field(role.spec.deny))
  const values = new Set<string>()
  for (const role of allowRoles) {
    for (const value of field(role.spec.allow)) if (!matchAnyGlob(denied, value)) values.add(value)
  }
  return [...values].sort()
}

/**
 * SSH logins (certificate principals) the roles grant. Logins are not scoped by `node_labels`:
 * an OpenSSH certificate cannot say "this login on those nodes only". A login missing here is
 * the troubleshooting guide's `ssh: unable to authenticate` case.
 */
export function logins(roles: readonly Role[]): string[] {
  return unionMinusDeny(roles, roles, (c) => c.logins)
}

/**
 * Database names the roles allow (`*` = any). With `db`, only from roles whose `db_labels` match
 * it, and `[]` when any role's deny `db_labels` match it.
 */
export function databaseNames(roles: readonly Role[], db?: Database): string[] {
  return unionMinusDeny(rolesMatching(roles, db), roles, (c) => c.db_names)
}

/** Database users the roles allow (`*` = any), scoped like {@link databaseNames}. */
export function databaseUsers(roles: readonly Role[], db?: Database): string[] {
  return unionMinusDeny(rolesMatching(roles, db), roles, (c) => c.db_users)
}

/** The database account a client certificate would route to. */
export interface DatabaseLogin {
  readonly user: string
  /**
   * Database name. When omitted, `db_names` is not checked: callers issuing for a protocol that
   * routes by database name (PostgreSQL, MongoDB) must pass it.
   */
  readonly name?: string
}

/**
 * Whether the roles may connect to `db` as `login.user` (and to database `login.name`).
 *
 * 1. The database must be visible ({@link resourceVisible}); if not, that refusal is returned.
 * 2. Any role whose `deny.db_users` matches the user, or `deny.db_names` the name, refuses
 *    (whatever its labels, as for the list grants above).
 * 3. **One** role must match the database by `allow.db_labels` **and** allow the user **and**
 *    the name (entries are `*` globs, `*` = any). Combining roles would let a user allowed on
 *    dev databases reach a prod database that another role only lets a read-only user into.
 */
export function canUseDatabase(roles: readonly Role[], db: Database, login: DatabaseLogin): Decision {
  const visible = resourceVisible(roles, db)
  if (!visible.allowed) return visible
  if (login.user === '' || login.name === '') return refused('database user and name must not be empty')
  const { user, name } = login
  const userDeny = roles.find((role) => matchAnyGlob(role.spec.deny.db_users, user))
  if (userDeny) return refused(`${roleName(userDeny)} denies database user "${user}"`)
  const nameDeny =
    name === undefined ? undefined : roles.find((role) => matchAnyGlob(role.spec.deny.db_names, name))
  if (nameDeny) return refused(`${roleName(nameDeny)} denies database name "${name}"`)
  const account = name === undefined ? `user "${user}"` : `user "${user}" on database name "${name}"`
  const granting = roles.find(
    (role) =>
      matchLabels(role.spec.allow.db_labels, db.metadata.labels) &&
      matchAnyGlob(role.spec.allow.db_users, user) &&
      (name === undefined || matchAnyGlob(role.spec.allow.db_names, name)),
  )
  if (!granting) return refused(`no role matching db "${db.metadata.name}" allows ${account}`)
  return granted(`${roleName(granting)} allows ${account}`)
}

/**
 * Kubernetes groups the roles grant. With `cluster`, only from roles whose `kubernetes_labels`
 * match it, and `[]` when any role's deny `kubernetes_labels` match it.
 */
export function kubernetesGroups(roles: readonly Role[], cluster?: KubeCluster): string[] {
  return unionMinusDeny(rolesMatching(roles, cluster), roles, (c) => c.kubernetes_groups)
}

/** Kubernetes users the roles grant, scoped like {@link kubernetesGroups}. */
export function kubernetesUsers(roles: readonly Role[], cluster?: KubeCluster): string[] {
  return unionMinusDeny(rolesMatching(roles, cluster), roles, (c) => c.kubernetes_users)
}

/**
 * AWS role ARNs the roles grant. With `app`, only from roles whose `app_labels` match it, and
 * `[]` when any role's deny `app_labels` match it.
 */
export function awsRoleArns(roles: readonly Role[], app?: App): string[] {
  return unionMinusDeny(rolesMatching(roles, app), roles, (c) => c.aws_role_arns)
}

/** Whether the roles can see (and so request a certificate for) `app`: {@link resourceVisible}. */
export function canSeeApp(roles: readonly Role[], app: App): Decision {
  return resourceVisible(roles, app)
}

/**
 * Whether the roles grant the SPIFFE ID path `path` (`/svc/web`): some role's `allow.spiffe` glob
 * matches it and no role's `deny.spiffe` glob does. Not scoped by labels: a SPIFFE ID names a
 * workload, not a registered resource.
 */
export function canUseSpiffePath(roles: readonly Role[], path: string): Decision {
  const deny = roles.find((role) => matchAnyGlob(role.spec.deny.spiffe, path))
  if (deny) return refused(`${roleName(deny)} denies SPIFFE path "${path}"`)
  const allow = roles.find((role) => matchAnyGlob(role.spec.allow.spiffe, path))
  if (!allow) return refused(`no role allows SPIFFE path "${path}"`)
  return granted(`${roleName(allow)} allows SPIFFE path "${path}"`)
}
