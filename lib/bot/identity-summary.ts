/**
 * Log lines after each join, renewal and output renewal, in the spirit of the troubleshooting
 * guide: validity window and duration, then kind, renewable, disallow-reissue, roles, principals
 * and generation — what an operator needs to see which principals an output really holds.
 */
import type { IssueResponse } from '../auth/issue-response.ts'
import type { LogFields } from '../log.ts'

export function identityFields(res: IssueResponse): LogFields {
  const after = new Date(res.not_before)
  const before = new Date(res.not_after)
  return {
    after: res.not_before,
    before: res.not_after,
    duration: formatSpan(before.getTime() - after.getTime()),
    kind: 'tls',
    renewable: res.identity.renewable,
    'disallow-reissue': res.identity.disallow_reissue,
    roles: res.identity.roles,
    principals: res.identity.logins,
    generation: res.identity.generation,
  }
}

/** `1h1m0s`-style span (Go's duration format, as in the guide's logs). */
export function formatSpan(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`
}
