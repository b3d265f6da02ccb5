/**
 * Registered resources, the things roles grant access to by labels: databases (`db`),
 * Kubernetes clusters (`kube_cluster`), applications (`app`) and SSH nodes (`node`). Their labels
 * (`metadata.labels`) are what role selectors match.
 *
 * @example
 * kind: db
 * version: v1
 * metadata: { name: example, labels: { env: dev } }
 * spec: { protocol: postgres, uri: "127.0.0.1:5432" }
 */
import * as z from 'zod'
import { hostname, hostPort, url } from './fields.ts'
import { type Conforms, documentSchema } from './metadata.ts'
import type { App, Database, DatabaseProtocol, KubeCluster, Node } from './types.ts'

/** Database protocols, in the order error messages list them. */
export const DATABASE_PROTOCOLS: readonly DatabaseProtocol[] = ['postgres', 'mysql', 'mongodb', 'cockroachdb']

/** The `db` document schema. */
export const databaseSchema = documentSchema(
  'db',
  z.strictObject({
    protocol: z.enum(['postgres', 'mysql', 'mongodb', 'cockroachdb']),
    uri: hostPort,
  }),
)

/** The `kube_cluster` document schema; `spec` may be omitted. */
export const kubeClusterSchema = documentSchema(
  'kube_cluster',
  z.strictObject({ server: url(['https']).optional() }).default({}),
)

/** The `app` document schema. */
export const appSchema = documentSchema(
  'app',
  z.strictObject({
    uri: url(['http', 'https', 'tcp']),
    public_addr: hostname.optional(),
  }),
)

/** The `node` document schema. */
export const nodeSchema = documentSchema(
  'node',
  z.strictObject({
    hostname,
    addr: hostPort,
  }),
)

true satisfies Conforms<typeof databaseSchema, Database>
true satisfies Conforms<typeof kubeClusterSchema, KubeCluster>
true satisfies Conforms<typeof appSchema, App>
true satisfies Conforms<typeof nodeSchema, Node>
