/**
 * tctl-style resource commands over the configured state:
 *   get <kind>[/<name>]    print one document, or all of a kind, as YAML
 *   create -f <path>       create documents (fails if one exists)
 *   apply -f <path>        create or update documents
 *   rm <kind>/<name>       delete a document
 */

import { removeLock } from '../../auth/lock-admin.ts'
import { BadRequestError } from '../../errors.ts'
import { cryptoRandom } from '../../random.ts'
import { toYaml } from '../../resources/parse.ts'
import { isResourceKind, RESOURCE_KINDS } from '../../resources/schemas.ts'
import type { Resource, ResourceKind } from '../../resources/types.ts'
import { applyResources } from '../../services/apply.ts'
import type { CliContext } from '../context.ts'
import { loadDocuments } from '../load-documents.ts'
import { renderTable } from '../table.ts'

/** Splits `kind/name` (the name may itself hold a `/`, as bot instances do). */
export function parseReference(
  ref: string | undefined,
  nameRequired: boolean,
): { kind: ResourceKind; name?: string } {
  if (ref === undefined) throw new BadRequestError('expected <kind>[/<name>], e.g. role/access')
  const slash = ref.indexOf('/')
  const kind = slash < 0 ? ref : ref.slice(0, slash)
  const name = slash < 0 ? undefined : ref.slice(slash + 1)
  if (!isResourceKind(kind)) {
    throw new BadRequestError(`unknown kind "${kind}"; expected one of ${RESOURCE_KINDS.join(', ')}`)
  }
  if (nameRequired && !name) throw new BadRequestError(`expected ${kind}/<name>`)
  return name ? { kind, name } : { kind }
}

export async function getCommand(ctx: CliContext, ref: string | undefined): Promise<number> {
  const { kind, name } = parseReference(ref, false)
  if (name !== undefined) {
    ctx.print(toYaml(await ctx.resources.get(kind, name)).trimEnd())
    return 0
  }
  const all: Resource[] = []
  let cursor: string | undefined
  do {
    const page = await ctx.resources.list(kind, cursor === undefined ? {} : { cursor })
    all.push(...page.items)
    cursor = page.nextCursor
  } while (cursor !== undefined)
  if (all.length > 0) ctx.print(toYaml(all).trimEnd())
  return 0
}

export async function createCommand(ctx: CliContext, path: string): Promise<number> {
  for (const doc of loadDocuments(path)) {
    const created = await ctx.resources.create(doc)
    ctx.print(`${created.kind} "${created.metadata.name}" created`)
  }
  return 0
}

export async function applyCommand(ctx: CliContext, path: string): Promise<number> {
  const results = await applyResources(ctx.resources, loadDocuments(path))
  ctx.print(
    renderTable(
      ['KIND', 'NAME', 'ACTION', 'REVISION'],
      results.map((r) => [r.kind, r.name, r.action, r.revision]),
    ),
  )
  return 0
}

export async function removeCommand(ctx: CliContext, ref: string | undefined): Promise<number> {
  const { kind, name } = parseReference(ref, true)
  // A lock's removal is an audit event, whichever command removes it (see `locks rm`).
  if (kind === 'lock') {
    const deps = {
      store: ctx.store,
      resources: ctx.resources,
      clock: ctx.clock,
      random: cryptoRandom,
      log: ctx.log,
    }
    await removeLock(deps, 'cli', name as string)
  } else {
    await ctx.resources.delete(kind, name as string)
  }
  ctx.print(`${kind} "${name}" deleted`)
  return 0
}
