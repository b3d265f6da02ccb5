/** Resources as a text table (`get <kind> --format text`): name, what it is, expiry. */
import { formatTarget } from '../auth/lock-admin.ts'
import type { Resource } from '../resources/types.ts'
import { humanTime } from './human.ts'
import { renderTable } from './table.ts'

export function resourceTable(items: readonly Resource[], now: Date): string {
  if (items.length === 0) return ''
  return renderTable(
    ['KIND', 'NAME', 'SUMMARY', 'EXPIRES'],
    items.map((r) => [
      r.kind,
      displayName(r),
      summaryOf(r),
      r.metadata.expires === undefined ? 'never' : humanTime(r.metadata.expires, now),
    ]),
  )
}

/** A join token's name is its secret when it joins by `token`: only its first 8 characters. */
export function displayName(r: Resource): string {
  if (r.kind === 'token' && r.spec.join_method === 'token') return maskToken(r.metadata.name)
  if (r.kind === 'bot_instance') return `${r.spec.bot_name}/${r.metadata.name}`
  return r.metadata.name
}

export function maskToken(name: string): string {
  return name.length > 8 ? `${name.slice(0, 8)}…` : name
}

function summaryOf(r: Resource): string {
  switch (r.kind) {
    case 'role':
      return r.metadata.description ?? '-'
    case 'bot':
      return `roles ${r.spec.roles.join(', ') || '(none)'}`
    case 'token':
      return `${r.spec.join_method} join for bot ${r.spec.bot_name}`
    case 'bot_instance':
      return `generation ${r.status.generation}`
    case 'lock':
      return formatTarget(r.spec.target)
    case 'db':
      return `${r.spec.protocol} ${r.spec.uri}`
    case 'kube_cluster':
      return r.spec.server ?? '-'
    case 'app':
      return r.spec.uri
    case 'node':
      return `${r.spec.hostname} ${r.spec.addr}`
  }
}
