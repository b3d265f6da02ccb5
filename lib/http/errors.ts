/**
 * Error responses: every error leaves the API as `{ code, message }` with the right status.
 * BrokerErrors carry a caller-safe message (dependency failures are reduced to a generic one, see
 * public-error.ts); anything else is logged in full and answered with a generic 500, so stack
 * traces and internal details never reach a caller.
 */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { isBrokerError } from '../errors.ts'
import type { Logger } from '../log.ts'
import { publicError } from './public-error.ts'

export function errorResponse(c: Context, err: unknown, log: Logger): Response {
  if (isBrokerError(err)) {
    if (err.status >= 500)
      log.error('request failed', {
        code: err.code,
        path: c.req.path,
        message: err.message,
        cause: String(err.cause ?? ''),
      })
    else {
      const reason = err.details?.reason
      log.debug('request refused', {
        code: err.code,
        path: c.req.path,
        message: err.message,
        ...(typeof reason === 'string' && { reason }),
      })
    }
    return c.json(publicError(err), err.status as ContentfulStatusCode)
  }
  log.error('unexpected error', {
    path: c.req.path,
    error: err instanceof Error ? (err.stack ?? err.message) : String(err),
  })
  return c.json({ code: 'ERR_INTERNAL', message: 'internal error; see the server log' }, 500)
}

export function notFoundResponse(c: Context): Response {
  return c.json({ code: 'ERR_NOT_FOUND', message: `no endpoint ${c.req.method} ${c.req.path}` }, 404)
}
