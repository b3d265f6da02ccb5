/**
 * The schema of every resource kind, in one table: the single place that knows which kinds
 * exist. Adding a kind means adding its type to `types.ts` and its schema here.
 */
import type * as z from 'zod'
import { botSchema } from './bot.ts'
import { botInstanceSchema } from './bot-instance.ts'
import { lockSchema } from './lock.ts'
import { appSchema, databaseSchema, kubeClusterSchema, nodeSchema } from './registered.ts'
import { roleSchema } from './role.ts'
import { tokenSchema } from './token.ts'
import type { ResourceKind, ResourceOf } from './types.ts'

/** Kind → schema producing that kind's canonical document. */
export const RESOURCE_SCHEMAS: { readonly [K in ResourceKind]: z.ZodType<ResourceOf<K>> } = Object.freeze({
  role: roleSchema,
  bot: botSchema,
  token: tokenSchema,
  bot_instance: botInstanceSchema,
  lock: lockSchema,
  db: databaseSchema,
  kube_cluster: kubeClusterSchema,
  app: appSchema,
  node: nodeSchema,
})

/** Every kind, in the order error messages list them. */
export const RESOURCE_KINDS: readonly ResourceKind[] = Object.freeze(
  Object.keys(RESOURCE_SCHEMAS) as ResourceKind[],
)

/** Narrows untrusted text to a {@link ResourceKind}. */
export function isResourceKind(value: unknown): value is ResourceKind {
  return typeof value === 'string' && Object.hasOwn(RESOURCE_SCHEMAS, value)
}
