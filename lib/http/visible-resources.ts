/**
 * Reading registered resources (databases, Kubernetes clusters, apps, nodes) as RBAC shows them:
 * a caller sees exactly the ones its roles make visible (labels plus a `read`/`list` rule, see
 * `resourceVisible`), and an invisible one reads as missing (`database "x" not found`), never as
 * forbidden, so names do not leak.
 *
 * `?as_roles=a,b` views through roles the caller may impersonate instead of its own: what a bot's
 * output would see (`credbroker get db --as-roles machine-id-db`, the guide's database case).
 */
import type { Caller } from '../auth/caller.ts'
import type { AuthDeps } from '../auth/deps.ts'
import { loadCallerRoles, loadRoles } from '../auth/roles.ts'
import { AccessDeniedError, NotFoundError } from '../errors.ts'
import { checkImpersonation, resourceVisible } from '../rbac/index.ts'
import type { RegisteredResource, ResourceKind, Role } from '../resources/types.ts'

const REGISTERED_KINDS = new Set<ResourceKind>(['db', 'kube_cluster', 'app', 'node'])
const DISPLAY: Readonly<Record<string, string>> = {
  db: 'database',
  kube_cluster: 'kubernetes cluster',
  app: 'application',
  node: 'node',
}

export function isRegisteredKind(kind: ResourceKind): kind is RegisteredResource['kind'] {
  return REGISTERED_KINDS.has(kind)
}

/** The roles a listing is seen through: the caller's, or `asRoles` it may impersonate. */
export async function viewingRoles(
  deps: AuthDeps,
  caller: Caller,
  asRoles: string | undefined,
): Promise<Role[]> {
  const own = await loadCallerRoles(deps.resources, caller.identity)
  if (asRoles === undefined || asRoles === '') return own
  const requested = [
    ...new Set(
      asRoles
        .split(',')
        .map((r) => r.trim())
        .filter((r) => r !== ''),
    ),
  ]
  const decision = checkImpersonation(own, requested)
  if (!decision.allowed) {
    throw new AccessDeniedError(
      `${caller.identity.user} may not view as ${requested.join(', ')}: ${decision.reason}`,
    )
  }
  return loadRoles(deps.resources, requested)
}

export function visibleItems<T>(roles: readonly Role[], items: readonly T[]): T[] {
  return items.filter((item) => resourceVisible(roles, item as unknown as RegisteredResource).allowed)
}

/** @throws NotFoundError (`database "x" not found`) when `roles` cannot see the resource. */
export function assertVisible(roles: readonly Role[], resource: RegisteredResource): void {
  if (!resourceVisible(roles, resource).allowed) {
    throw new NotFoundError(`${DISPLAY[resource.kind]} "${resource.metadata.name}" not found`)
  }
}
