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

/**
 * The JSON body of an auth service answer: the value on a 2xx, a {@link RemoteError} with the
 * server's code and message otherwise (or `ERR_UPSTREAM_UNAVAILABLE` when the body says none).
 */
export async function readAnswer<T>(response: Response): Promise<T> {
  const payload = (await response.json().catch(() => undefined)) as
    | { code?: string; message?: string }
    | undefined
  if (!response.ok) {
    throw new RemoteError(
      (payload?.code ?? 'ERR_UPSTREAM_UNAVAILABLE') as BrokerErrorCode,
      response.status,
      payload?.message ?? `auth server answered HTTP ${response.status}`,
    )
  }
  return payload as T
}
