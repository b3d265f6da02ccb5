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

/**
 * The resource if `roles` can see it.
 * @throws NotFoundError (`database "x" not found`) — the same message whether it is missing or
 *   invisible, so a name's existence does not leak.
 */
export async function getVisible(
  resources: AuthDeps['resources'],
  roles: readonly Role[],
  kind: RegisteredResource['kind'],
  name: string,
): Promise<RegisteredResource> {
  const notFound = () => new NotFoundError(`${DISPLAY[kind]} "${name}" not found`)
  const resource = (await resources.get(kind, name).catch((err: unknown) => {
    throw err instanceof NotFoundError ? notFound() : err
  })) as RegisteredResource
  if (!resourceVisible(roles, resource).allowed) throw notFound()
  return resource
}
