/** The body of `POST /v1/reissue`, validated allowlist-first. */
import { BadRequestError } from '../errors.ts'

export interface ReissueRequest {
  /** Output names, deduplicated; absent: every output. */
  readonly outputs?: readonly string[]
  /** Free text for the log (why the operator asked). */
  readonly reason?: string
}

const MAX_OUTPUTS = 100
const MAX_REASON = 512

/** @throws BadRequestError for anything but `{ outputs?: string[], reason?: string }` (empty body: `{}`). */
export function parseReissueRequest(bytes: Uint8Array): ReissueRequest {
  const text = new TextDecoder().decode(bytes).trim()
  let value: unknown = {}
  if (text !== '') {
    try {
      value = JSON.parse(text)
    } catch {
      throw new BadRequestError('the body must be JSON')
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequestError('the body must be a JSON object')
  }
  const { outputs, reason, ...rest } = value as Record<string, unknown>
  const extra = Object.keys(rest)
  if (extra.length > 0) throw new BadRequestError(`unknown field "${extra[0]}"`)
  if (outputs !== undefined) {
    if (!Array.isArray(outputs) || outputs.length === 0 || outputs.length > MAX_OUTPUTS)
      throw new BadRequestError(`outputs must be a list of 1 to ${MAX_OUTPUTS} output names`)
    if (!outputs.every((o): o is string => typeof o === 'string' && o.length > 0 && o.length <= 128))
      throw new BadRequestError('outputs must hold output names')
  }
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > MAX_REASON))
    throw new BadRequestError(`reason must be text of at most ${MAX_REASON} characters`)
  return {
    ...(outputs !== undefined && { outputs: [...new Set(outputs as string[])] }),
    ...(reason !== undefined && { reason: reason as string }),
  }
}
