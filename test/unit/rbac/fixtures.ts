/**
 * Literal canonical documents for the RBAC tests: builders fill the empty defaults so a case
 * states only what it is about.
 */
import { emptyConditions } from '../../../lib/resources/role.ts'
import type {
  App,
  Database,
  KubeCluster,
  Labels,
  Node,
  Role,
  RoleConditions,
  RoleOptions,
} from '../../../lib/resources/types.ts'

/** Every condition empty: grants nothing, denies nothing. */
export const EMPTY_CONDITIONS: RoleConditions = emptyConditions()

export interface RoleParts {
  readonly allow?: Partial<RoleConditions>
  readonly deny?: Partial<RoleConditions>
  readonly options?: RoleOptions
}

/** A canonical role named `name` with the given conditions over empty defaults. */
export function role(name: string, parts: RoleParts = {}): Role {
  return {
    kind: 'role',
    version: 'v1',
    metadata: { name, labels: {} },
    spec: {
      allow: { ...EMPTY_CONDITIONS, ...parts.allow },
      deny: { ...EMPTY_CONDITIONS, ...parts.deny },
      options: parts.options ?? {},
    },
  }
}

/** A PostgreSQL database named `name` with `labels`. */
export function database(name: string, labels: Labels = {}): Database {
  return {
    kind: 'db',
    version: 'v1',
    metadata: { name, labels },
    spec: { protocol: 'postgres', uri: 'localhost:5432' },
  }
}

export function kubeCluster(name: string, labels: Labels = {}): KubeCluster {
  return { kind: 'kube_cluster', version: 'v1', metadata: { name, labels }, spec: {} }
}

export function app(name: string, labels: Labels = {}): App {
  return { kind: 'app', version: 'v1', metadata: { name, labels }, spec: { uri: 'http://localhost:8080' } }
}

export function node(name: string, labels: Labels = {}): Node {
  return {
    kind: 'node',
    version: 'v1',
    metadata: { name, labels },
    spec: { hostname: name, addr: '127.0.0.1:22' },
  }
}

/** The rule the troubleshooting guide adds so a bot can find databases. */
export const DB_LIST_RULE = { resources: ['db_server', 'db'], verbs: ['read', 'list'] } as const

/** The guide's `machine-id-db` role: all databases, name `example`, user `alice`, listable. */
export const MACHINE_ID_DB = role('machine-id-db', {
  allow: { db_labels: { '*': ['*'] }, db_names: ['example'], db_users: ['alice'], rules: [DB_LIST_RULE] },
})

export const HOUR = 3_600_000
export const MINUTE = 60_000
