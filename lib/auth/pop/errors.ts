/**
 * PoP failures. Every one is an {@link UnauthenticatedError} (`ERR_UNAUTHENTICATED`, 401): callers
 * learn that authentication failed and, from the message, roughly why; the stable
 * {@link PopFailureReason} sits in `details.reason` for logs, metrics and tests.
 */
import { UnauthenticatedError } from '../../errors.ts'
import type { PopFailureReason } from './claims.ts'

/** An `ERR_UNAUTHENTICATED` error whose `details.reason` is `reason`. */
export function popFailure(reason: PopFailureReason, message: string, cause?: unknown): UnauthenticatedError {
  return new UnauthenticatedError(`proof of possession rejected: ${message}`, { cause, details: { reason } })
}

/** The reason of a PoP failure, or `undefined` for any other error. */
export function popFailureReason(err: unknown): PopFailureReason | undefined {
  if (!(err instanceof UnauthenticatedError)) return undefined
  const reason = err.details?.reason
  return typeof reason === 'string' ? (reason as PopFailureReason) : undefined
}
