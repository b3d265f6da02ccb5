/**
 * An error answered by the auth service, rebuilt on the client with the same code, status and
 * message, so a bot reports `ERR_ACCESS_DENIED: lock targeting …` exactly as the server said it.
 */
import { BrokerError, type BrokerErrorCode, type BrokerErrorStatus } from '../errors.ts'

const KNOWN_STATUSES: readonly number[] = [400, 401, 403, 404, 409, 413, 429, 500, 502, 503, 504]

export class RemoteError extends BrokerError {
  override readonly code: BrokerErrorCode
  override readonly status: BrokerErrorStatus

  constructor(code: BrokerErrorCode, status: number, message: string) {
    super(message)
    this.code = code
    this.status = (KNOWN_STATUSES.includes(status) ? status : 500) as BrokerErrorStatus
  }
}
