/**
 * The parts every resource document shares: `kind`, `version`, `metadata`, and a compile-time
 * check that a kind's schema produces exactly the canonical type from `types.ts`.
 */
import * as z from 'zod'
import { instant, resourceName, text } from './fields.ts'
import { labels } from './labels.ts'
import type { ResourceKind, ResourceVersion } from './types.ts'

/** Every version this release reads. Only `v1` exists; the list is what errors print. */
export const SUPPORTED_VERSIONS: readonly ResourceVersion[] = ['v1']

/** `metadata`, shared by every kind. Unknown fields are errors, like everywhere else. */
export const metadata = z.strictObject({
  name: resourceName,
  description: text(1024, { allowEmpty: true, multiline: true }).optional(),
  labels,
  expires: instant.optional(),
  // Set by the store on reads; accepted on input so a document read back can be written again.
  revision: text(256).optional(),
})

/**
 * The schema of one kind's document: `{ kind, version, metadata, spec }`, all strict. The caller
 * has already checked `kind` and `version` (for better messages); they are repeated here so the
 * schema's output type is exact.
 */
export function documentSchema<K extends ResourceKind, S extends z.ZodType>(kind: K, spec: S) {
  return z.strictObject({
    kind: z.literal(kind),
    version: z.literal('v1'),
    metadata,
    spec,
  })
}

type DeepReadonly<T> = T extends readonly (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T

/**
 * `true` when schema `S` outputs type `T` (up to `readonly`): every output is a `T`, and every
 * `T` is an output. Used as `true satisfies Conforms<typeof schema, Role>` next to each schema,
 * so drift between a schema and `types.ts` fails `tsc`: a field missing from the schema, a new
 * required field, a changed field type. (An extra *optional* field in the schema's output is the
 * one difference this structural check cannot see; strict schemas keep such fields rare.)
 */
export type Conforms<S extends z.ZodType, T> = [z.output<S>] extends [T]
  ? [T] extends [DeepReadonly<z.output<S>>]
    ? true
    : false
  : false
