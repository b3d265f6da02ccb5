/**
 * tctl-style resource commands, on the local state or through `--auth-server`:
 *   get <kind>[/<name>]    documents (YAML by default, round-trips with create -f), or a table
 *   create -f <path>       create documents (fails if one exists)
 *   apply -f <path>        create or update documents
 *   rm <kind>/<name>       delete a document
 * Every document of a file is validated before anything is written, so a bad file writes nothing.
 */
import { BadRequestError, isBrokerError } from '../../errors.ts'
import { nameOf } from '../../resources/keys.ts'
import { toJson, toYaml } from '../../resources/parse.ts'
import { isResourceKind, RESOURCE_KINDS } from '../../resources/schemas.ts'
import type { Resource, ResourceKind } from '../../resources/types.ts'
import type { ApplyAction } from '../../services/apply.ts'
import type { AdminBackend } from '../admin/backend.ts'
import { withAdmin } from '../admin/open-backend.ts'
import { stringFlag } from '../args.ts'
import type { Invocation } from '../command.ts'
import { loadDocuments } from '../load-documents.ts'
import { renderData } from '../output.ts'
import { resourceTable } from '../resource-table.ts'
import { renderTable } from '../table.ts'
import { UsageError } from '../usage-error.ts'

const KINDS = RESOURCE_KINDS.join(', ')

/** Splits `kind/name` (the name may itself hold a `/`, as bot instances do). */
export function parseReference(
  ref: string | undefined,
  nameRequired: boolean,
): { kind: ResourceKind; name?: string } {
  if (ref === undefined) throw new UsageError('expected <kind>[/<name>], e.g. role/access')
  const slash = ref.indexOf('/')
  const kind = slash < 0 ? ref : ref.slice(0, slash)
  const name = slash < 0 ? undefined : ref.slice(slash + 1)
  if (!isResourceKind(kind)) throw new BadRequestError(`unknown kind "${kind}"; expected one of ${KINDS}`)
  if (nameRequired && !name) throw new UsageError(`expected ${kind}/<name>`)
  return name ? { kind, name } : { kind }
}

/** Canonical documents for JSON/YAML output (key order as the schema has it). */
function canonical(doc: Resource): unknown {
  return JSON.parse(toJson(doc))
}

export async function runGet(inv: Invocation): Promise<number> {
  const { kind, name } = parseReference(inv.args[0], false)
  const now = inv.clock.now()
  const docs = await withAdmin(inv, async (admin) =>
    name === undefined ? admin.list(kind) : [await admin.get(kind, name)],
  )
  const one = name !== undefined
  const text = (() => {
    if (inv.format === 'yaml') return docs.length === 0 ? '' : toYaml(docs).trimEnd()
    if (inv.format === 'json')
      return JSON.stringify(one ? canonical(docs[0] as Resource) : docs.map(canonical), null, 2)
    return one ? toYaml(docs).trimEnd() : resourceTable(docs, now)
  })()
  if (text !== '') inv.io.stdout(text)
  return 0
}

function fileOf(inv: Invocation): string {
  const file = stringFlag(inv.flags, 'file')
  if (file === undefined) throw new UsageError(`${inv.path.join(' ')} needs -f <file|dir>`)
  return file
}

export async function runCreate(inv: Invocation): Promise<number> {
  const docs = loadDocuments(fileOf(inv))
  const created = await withAdmin(inv, async (admin) => {
    const out: Resource[] = []
    for (const doc of docs) out.push(await admin.create(doc))
    return out
  })
  const rows = created.map((r) => ({ kind: r.kind, name: nameOf(r), action: 'created' as const }))
  inv.io.stdout(
    renderData(inv.format, rows, () => rows.map((r) => `${r.kind} "${r.name}" created`).join('\n')),
  )
  return 0
}

export interface ApplyRow {
  readonly kind: ResourceKind
  readonly name: string
  readonly action: ApplyAction
  readonly revision: string
}

/** Create missing, update changed (conditional on the revision just read), leave equal ones. */
export async function applyDocuments(admin: AdminBackend, docs: readonly Resource[]): Promise<ApplyRow[]> {
  const rows: ApplyRow[] = []
  for (const doc of docs) {
    const name = nameOf(doc)
    const current = await admin.get(doc.kind, name).catch((err: unknown) => {
      if (isBrokerError(err) && err.code === 'ERR_NOT_FOUND') return undefined
      throw err
    })
    if (current === undefined) {
      const created = await admin.create(doc)
      rows.push({ kind: doc.kind, name, action: 'created', revision: created.metadata.revision ?? '' })
      continue
    }
    const revision = current.metadata.revision ?? ''
    if (sameContent(current, doc)) {
      rows.push({ kind: doc.kind, name, action: 'unchanged', revision })
      continue
    }
    const updated = await admin.update({ ...doc, metadata: { ...doc.metadata, revision } } as Resource)
    rows.push({ kind: doc.kind, name, action: 'updated', revision: updated.metadata.revision ?? '' })
  }
  return rows
}

function sameContent(a: Resource, b: Resource): boolean {
  const strip = (r: Resource) => {
    const { revision: _ignored, ...metadata } = r.metadata
    return toJson({ ...r, metadata } as Resource)
  }
  return strip(a) === strip(b)
}

export async function runApply(inv: Invocation): Promise<number> {
  const docs = loadDocuments(fileOf(inv))
  const rows = await withAdmin(inv, (admin) => applyDocuments(admin, docs))
  inv.io.stdout(
    renderData(inv.format, rows, () =>
      renderTable(
        ['KIND', 'NAME', 'ACTION', 'REVISION'],
        rows.map((r) => [r.kind, r.name, r.action, r.revision]),
      ),
    ),
  )
  return 0
}

export async function runRemove(inv: Invocation): Promise<number> {
  const { kind, name } = parseReference(inv.args[0], true)
  await withAdmin(inv, (admin) => admin.remove(kind, name as string))
  inv.io.stdout(`${kind} "${name}" deleted`)
  return 0
}
