/**
 * Routed issuance: which resource an impersonated certificate is for, checked against the
 * impersonated roles (never the bot's own), and what the certificate then carries.
 *
 * The resource is looked up as the impersonated roles see it: a resource they cannot see (labels,
 * or no `read`/`list` rule on its kind) is reported exactly like a missing one —
 * `database "<name>" not found` — so a certificate request reveals nothing the roles could not
 * list (the troubleshooting guide's "database not found" case).
 *
 * | route        | CA        | subject                                   | carries                         |
 * |--------------|-----------|-------------------------------------------|---------------------------------|
 * | `database`   | `db`      | `CN=<database user>` (what PostgreSQL's `cert` auth and MySQL's `REQUIRE SUBJECT` match) | service, protocol, user, name |
 * | `kubernetes` | `user`    | `CN=<kubernetes user or identity user>`, `O=<group>` per group (the API server's x509 authenticator) | users, groups |
 * | `app`        | `user`    | the identity's (`CN=<user>`, `O=<role>`)  | app name, AWS role ARNs         |
 */
import { AccessDeniedError, BadRequestError, NotFoundError } from '../errors.ts'
import type { Identity, Routes } from '../identity/identity.ts'
import {
  awsRoleArns,
  canUseDatabase,
  databaseNames,
  databaseUsers,
  kubernetesGroups,
  kubernetesUsers,
  resourceVisible,
} from '../rbac/index.ts'
import type { App, Database, KubeCluster, Role } from '../resources/types.ts'
import type { ResourceService } from '../services/resource-service.ts'

export type RouteRequest =
  | {
      readonly database: { readonly service: string; readonly username?: string; readonly database?: string }
    }
  | { readonly kubernetesCluster: string }
  | { readonly app: string }

/** The resource's address as registered: a database's `host:port`, a cluster's API URL, an app's URI. */
export interface RouteTarget {
  readonly uri?: string
  readonly protocol?: string
  readonly public_addr?: string
}

/** What a route adds to an impersonated identity and how its certificate is issued. */
export interface ResolvedRoute {
  readonly routes: Routes
  readonly grants: Pick<
    Identity,
    'databaseUsers' | 'databaseNames' | 'kubernetesUsers' | 'kubernetesGroups' | 'awsRoleArns'
  >
  readonly ca: 'user' | 'db'
  /** Where the resource is, for the client's configuration (kubeconfig server, database host). */
  readonly target: RouteTarget
  /**
   * Subject name attributes replacing the identity's (absent: the identity's own subject); an
   * absent common name is the identity's user.
   */
  readonly subject?: { readonly commonName?: string; readonly organizations: readonly string[] }
}

/** Protocols whose servers pick the database by name at connect time: the name is required. */
const NAMED_DATABASE_PROTOCOLS = new Set(['postgres', 'mongodb', 'cockroachdb'])

/**
 * @throws NotFoundError `database "x" not found` (missing or invisible to `roles`);
 *   AccessDeniedError when visible but the user, name, or grants are not allowed;
 *   BadRequestError when the request leaves out what the resource needs.
 */
export async function resolveRoute(
  resources: ResourceService,
  roles: readonly Role[],
  route: RouteRequest,
): Promise<ResolvedRoute> {
  if ('database' in route)
    return databaseRoute(roles, await visible(resources, roles, 'db', route.database.service), route.database)
  if ('kubernetesCluster' in route) {
    return kubernetesRoute(roles, await visible(resources, roles, 'kube_cluster', route.kubernetesCluster))
  }
  return appRoute(roles, await visible(resources, roles, 'app', route.app))
}

const DISPLAY = { db: 'database', kube_cluster: 'kubernetes cluster', app: 'application' } as const

async function visible<K extends 'db' | 'kube_cluster' | 'app'>(
  resources: ResourceService,
  roles: readonly Role[],
  kind: K,
  name: string,
) {
  // One message for "absent" and "invisible", so a request cannot probe for what the roles cannot
  // list; why it is invisible goes to `details`, which is for the server's logs only.
  const notFound = (reason: string) =>
    new NotFoundError(`${DISPLAY[kind]} "${name}" not found`, { details: { reason } })
  const resource = await resources.get(kind, name).catch((err: unknown) => {
    throw err instanceof NotFoundError ? notFound('no such resource') : err
  })
  const decision = resourceVisible(roles, resource as Database | KubeCluster | App)
  if (!decision.allowed) throw notFound(decision.reason)
  return resource
}

function databaseRoute(
  roles: readonly Role[],
  db: Database,
  req: { readonly username?: string; readonly database?: string },
): ResolvedRoute {
  const users = databaseUsers(roles, db)
  const names = databaseNames(roles, db)
  const named = NAMED_DATABASE_PROTOCOLS.has(db.spec.protocol)
  // Nothing granted is a refusal whatever the request says: no username or name could succeed.
  if (req.username === undefined && users.length === 0) {
    throw new AccessDeniedError(
      `access to database "${db.metadata.name}" denied: the roles allow no db_users`,
    )
  }
  if (named && req.database === undefined && names.length === 0) {
    throw new AccessDeniedError(
      `access to database "${db.metadata.name}" denied: the roles allow no db_names`,
    )
  }
  const username = req.username ?? onlyLiteral(users)
  if (username === undefined) {
    throw new BadRequestError(
      `database "${db.metadata.name}" needs a username: the roles allow ${users.join(', ')}`,
    )
  }
  const database = req.database ?? (named ? onlyLiteral(names) : undefined)
  if (database === undefined && named) {
    throw new BadRequestError(
      `database "${db.metadata.name}" (${db.spec.protocol}) needs a database name: the roles allow ${names.join(', ')}`,
    )
  }
  const decision = canUseDatabase(roles, db, {
    user: username,
    ...(database !== undefined && { name: database }),
  })
  if (!decision.allowed) {
    throw new AccessDeniedError(`access to database "${db.metadata.name}" denied: ${decision.reason}`)
  }
  return {
    routes: {
      database: {
        service: db.metadata.name,
        protocol: db.spec.protocol,
        username,
        ...(database !== undefined && { database }),
      },
    },
    grants: { databaseUsers: users, databaseNames: names },
    ca: 'db',
    target: { uri: db.spec.uri, protocol: db.spec.protocol },
    subject: { commonName: username, organizations: [] },
  }
}

function kubernetesRoute(roles: readonly Role[], cluster: KubeCluster): ResolvedRoute {
  const users = kubernetesUsers(roles, cluster)
  const groups = kubernetesGroups(roles, cluster)
  if (users.length === 0 && groups.length === 0) {
    throw new AccessDeniedError(
      `the roles grant no kubernetes_users or kubernetes_groups on kubernetes cluster "${cluster.metadata.name}"`,
    )
  }
  const user = onlyLiteral(users)
  if (users.length > 1) {
    throw new AccessDeniedError(
      `the roles grant several kubernetes_users on "${cluster.metadata.name}" (${users.join(', ')}); a certificate names one`,
    )
  }
  // A lone pattern names no user. Only `*` admits the identity's own name (the subject's default);
  // anything narrower (`dev-*`) would put a user in the certificate that the roles do not grant.
  if (users.length === 1 && user === undefined && users[0] !== '*') {
    throw new AccessDeniedError(
      `the roles grant kubernetes_users on "${cluster.metadata.name}" only as the pattern "${users[0]}"; a certificate names one user`,
    )
  }
  return {
    routes: { kubernetesCluster: cluster.metadata.name },
    grants: { kubernetesUsers: users, kubernetesGroups: groups },
    ca: 'user',
    target: cluster.spec.server === undefined ? {} : { uri: cluster.spec.server },
    subject: { ...(user !== undefined && { commonName: user }), organizations: groups },
  }
}

function appRoute(roles: readonly Role[], app: App): ResolvedRoute {
  return {
    routes: { app: app.metadata.name },
    grants: { awsRoleArns: awsRoleArns(roles, app) },
    ca: 'user',
    target: {
      uri: app.spec.uri,
      ...(app.spec.public_addr !== undefined && { public_addr: app.spec.public_addr }),
    },
  }
}

/** The single value of `values` when it is one literal (no glob), else undefined. */
function onlyLiteral(values: readonly string[]): string | undefined {
  return values.length === 1 && !values[0]?.includes('*') ? values[0] : undefined
}
