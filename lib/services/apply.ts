/**
 * Declarative apply: make the store hold exactly the given documents (create missing ones,
 * update changed ones, leave equal ones alone). Running it twice changes nothing the second
 * time, which is what lets `npm start` reuse existing state.
 */
import { NotFoundError } from '../errors.ts'
import { nameOf } from '../resources/keys.ts'
import { toJson } from '../resources/parse.ts'
import type { Resource } from '../resources/types.ts'
import type { ResourceService } from './resource-service.ts'

export type ApplyAction = 'created' | 'updated' | 'unchanged'

export interface ApplyResult {
  readonly kind: Resource['kind']
  readonly name: string
  readonly action: ApplyAction
  readonly revision: string
}

/**
 * Applies documents in order. Each document is validated by the service before it is written;
 * the first invalid one stops the run (earlier documents stay applied, none is half-written).
 * Concurrent writers are detected: an update is conditional on the revision just read.
 */
export async function applyResources(
  resources: ResourceService,
  docs: readonly Resource[],
): Promise<ApplyResult[]> {
  const results: ApplyResult[] = []
  for (const doc of docs) results.push(await applyOne(resources, doc))
  return results
}

async function applyOne(resources: ResourceService, doc: Resource): Promise<ApplyResult> {
  const name = nameOf(doc)
  const current = await resources.get(doc.kind, name).catch((err: unknown) => {
    if (err instanceof NotFoundError) return undefined
    throw err
  })
  if (!current) {
    const created = await resources.create(doc)
    return { kind: doc.kind, name, action: 'created', revision: created.metadata.revision ?? '' }
  }
  const revision = current.metadata.revision ?? ''
  if (sameContent(current, doc)) return { kind: doc.kind, name, action: 'unchanged', revision }
  const updated = await resources.update(doc, { revision })
  return { kind: doc.kind, name, action: 'updated', revision: updated.metadata.revision ?? '' }
}

/** Canonical JSON comparison, ignoring the store revision. */
function sameContent(a: Resource, b: Resource): boolean {
  const strip = (r: Resource): string => {
    const { revision: _ignored, ...metadata } = r.metadata
    return toJson({ ...r, metadata } as Resource)
  }
  return strip(a) === strip(b)
}
