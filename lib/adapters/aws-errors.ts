/**
 * The shared machinery of the AWS adapters' error translators: each adapter keeps its own table
 * of rules (what a ConditionalCheckFailed or a ResourceNotFound means for it), while the shape of
 * SDK errors, the names that mean "access denied" or "unreachable", and the matching order live
 * here once.
 *
 * Messages are the adapter's own; the SDK error stays as `cause`, and only its name, HTTP status
 * and request id go to `details` for the logs — never AWS's error text, which can name principals
 * and access key ids.
 */
import { type BrokerError, isBrokerError } from '../errors.ts'

/** What the adapter's rule builders receive besides their own context. */
export interface ErrorContextFor {
  readonly cause: unknown
  readonly details: Record<string, unknown>
}

export interface AwsErrorRule<C> {
  /** Matched against the error's `name` and, for Node socket errors, its `code`. */
  readonly names?: readonly string[]
  /** Matched against `$metadata.httpStatusCode` when no rule matched by name. */
  readonly statuses?: readonly number[]
  /** An extra predicate on top of the name (e.g. the size variant of a ValidationException). */
  readonly when?: (err: SdkErrorShape) => boolean
  readonly make: (ctx: C, ec: ErrorContextFor) => BrokerError
}

export interface SdkErrorShape {
  name?: unknown
  code?: unknown
  message?: unknown
  $metadata?: { httpStatusCode?: unknown; requestId?: unknown }
}

/** Errors that mean the credentials or the IAM policy refused the request. */
export const AWS_ACCESS_DENIED_NAMES: readonly string[] = [
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredTokenException',
  'ExpiredToken',
  'CredentialsProviderError',
]

/** Errors that mean the service could not be reached or failed on its side. */
export const AWS_UNREACHABLE_NAMES: readonly string[] = [
  'InternalServiceError',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'AbortError',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]

/** The AWS error name of an SDK error (its `name`, or a socket error's `code`), if any. */
export function awsErrorName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const { name, code } = err as SdkErrorShape
  if (typeof name === 'string' && name !== 'Error') return name
  return typeof code === 'string' ? code : typeof name === 'string' ? name : undefined
}

/**
 * Translates an SDK error with an adapter's rules: the first rule matching by name (or socket
 * code) wins, then the first matching by HTTP status — moto answers auth failures with an XML
 * body on JSON protocols, which the SDK cannot parse but whose status survives — else `fallback`.
 * Domain errors pass through unchanged.
 */
export function translateAwsError<C>(
  err: unknown,
  ctx: C,
  rules: readonly AwsErrorRule<C>[],
  fallback: AwsErrorRule<C>['make'],
  baseDetails: Record<string, unknown> = {},
): BrokerError {
  if (isBrokerError(err)) return err
  const shape: SdkErrorShape = typeof err === 'object' && err !== null ? (err as SdkErrorShape) : {}
  const name = typeof shape.name === 'string' ? shape.name : undefined
  const code = typeof shape.code === 'string' ? shape.code : undefined
  const status =
    typeof shape.$metadata?.httpStatusCode === 'number' ? shape.$metadata.httpStatusCode : undefined
  const details: Record<string, unknown> = { ...baseDetails }
  const awsName = awsErrorName(err)
  if (awsName !== undefined) details.awsErrorName = awsName
  if (status !== undefined) details.httpStatus = status
  if (typeof shape.$metadata?.requestId === 'string') details.requestId = shape.$metadata.requestId
  const named = (n: string | undefined, rule: AwsErrorRule<C>) =>
    n !== undefined && rule.names?.includes(n) === true
  const rule =
    rules.find((r) => (named(name, r) || named(code, r)) && (r.when === undefined || r.when(shape))) ??
    rules.find((r) => r.statuses !== undefined && status !== undefined && r.statuses.includes(status))
  return (rule?.make ?? fallback)(ctx, { cause: err, details })
}
