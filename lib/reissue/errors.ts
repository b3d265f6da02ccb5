/** Errors of the reissue endpoint (`app.ts`). */
import { BrokerError } from '../errors.ts'

/**
 * The request names outputs the bot does not have. Checked before anything runs; a 400 rather
 * than a 404 because the endpoint exists and the request itself is wrong.
 */
export class UnknownOutputsError extends BrokerError {
  override readonly code = 'ERR_NOT_FOUND' as const
  override readonly status = 400 as const
  constructor(names: readonly string[]) {
    super(`unknown outputs: ${names.join(', ')}`)
  }
}

/** An `Idempotency-Key` reused with a different request body. */
export class IdempotencyConflictError extends BrokerError {
  override readonly code = 'ERR_ALREADY_EXISTS' as const
  override readonly status = 409 as const
  constructor() {
    super('this Idempotency-Key was used with a different request body')
  }
}
