/**
 * What a caller may learn from a failure of the service itself. Refusals (4xx) keep their
 * messages: they are written for the caller. Failures of the service's own dependencies (the
 * state store, KMS, its configuration) name tables, key ARNs and account ids, which are nobody's
 * business outside the service — including unauthenticated callers of `/v1/ping` — so those are
 * answered with the code and a generic message, and the full message goes to the log.
 */
import type { BrokerError } from '../errors.ts'

const GENERIC: Readonly<Record<string, string>> = {
  ERR_STORE_UNAVAILABLE: 'the auth service cannot reach its state store; see the auth service log',
  ERR_UPSTREAM_UNAVAILABLE: 'a service the auth service depends on is unavailable; see the auth service log',
  ERR_INVALID_CONFIG: 'the auth service is misconfigured; see the auth service log',
}

/** `{code, message}` safe to send: the error's own message unless it is a dependency failure. */
export function publicError(err: BrokerError): { code: string; message: string } {
  const generic = err.status >= 500 ? GENERIC[err.code] : undefined
  return { code: err.code, message: generic ?? err.message }
}
