/**
 * The one place where DynamoDB SDK failures become domain errors (G4, G7).
 *
 * Messages are ours, safe to show to a caller, and never hold credentials or AWS's own error text
 * (which can name access key ids and principals); the SDK error stays available as `cause`, and
 * its name, HTTP status and request id go to `details` for the logs.
 */
import {
  type BrokerError,
  isBrokerError,
  StoreUnavailableError,
  ThrottledError,
  TooLargeError,
} from '../../errors.ts'

export interface DynamoDbErrorContext {
  /** The table the failed request addressed; named in messages about a missing table. */
  tableName: string
  /**
   * The domain error a failed `ConditionExpression` means for this operation (the store decides:
   * AlreadyExists for create, RevisionMismatch for compare-and-swap, NotFound for delete).
   */
  conditionFailed?: () => BrokerError
}

interface Rule {
  /** Matched against the error's `name` and, for Node socket errors, its `code`. */
  names?: readonly string[]
  /** Matched against `$metadata.httpStatusCode` when no rule matched by name. */
  statuses?: readonly number[]
  /** An extra predicate on top of the name (e.g. the size variant of ValidationException). */
  when?: (err: SdkErrorShape) => boolean
  make: (
    ctx: DynamoDbErrorContext,
    errorContext: { cause: unknown; details: Record<string, unknown> },
  ) => BrokerError
}

interface SdkErrorShape {
  name?: unknown
  code?: unknown
  message?: unknown
  $metadata?: { httpStatusCode?: unknown; requestId?: unknown }
}

const ACCESS_DENIED_NAMES = [
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredTokenException',
  'CredentialsProviderError',
] as const

const UNREACHABLE_NAMES = [
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
] as const

const unavailable: Rule['make'] = (ctx, ec) =>
  new StoreUnavailableError(`the state store (DynamoDB table "${ctx.tableName}") is unavailable`, ec)

const accessDenied: Rule['make'] = (ctx, ec) =>
  new StoreUnavailableError(
    `access to the state store (DynamoDB table "${ctx.tableName}") was denied: check the credentials and IAM policy`,
    ec,
  )

/** Checked in order; the first match wins. Anything unmatched is StoreUnavailable. */
const RULES: readonly Rule[] = [
  {
    names: ['ConditionalCheckFailedException'],
    make: (ctx, ec) =>
      ctx.conditionFailed?.() ??
      new StoreUnavailableError('the state store rejected a write on an unexpected condition', ec),
  },
  {
    names: ['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded'],
    make: (_ctx, ec) => new ThrottledError('the state store is throttling requests; retry later', ec),
  },
  {
    names: ['ResourceNotFoundException'],
    make: (ctx, ec) =>
      new StoreUnavailableError(
        `the state store's DynamoDB table "${ctx.tableName}" does not exist in this account and region`,
        ec,
      ),
  },
  {
    names: ['ItemCollectionSizeLimitExceededException'],
    make: (_ctx, ec) => new TooLargeError('the state store namespace exceeds DynamoDB size limits', ec),
  },
  {
    // DynamoDB reports an item over 400 KB as "ValidationException: Item size has exceeded the
    // maximum allowed size" (or "Item size to update has exceeded ...").
    names: ['ValidationException'],
    when: (err) => typeof err.message === 'string' && /item size .*exceeded/i.test(err.message),
    make: (_ctx, ec) => new TooLargeError('the item exceeds the DynamoDB item size limit of 400 KB', ec),
  },
  { names: ACCESS_DENIED_NAMES, make: accessDenied },
  { names: UNREACHABLE_NAMES, make: unavailable },
  // Errors whose body the SDK could not parse (moto answers auth failures in XML on this JSON
  // protocol) still carry the HTTP status.
  { statuses: [401, 403], make: accessDenied },
  { statuses: [429], make: (_ctx, ec) => new ThrottledError('the state store is throttling requests', ec) },
]

/**
 * Translates an error thrown by the DynamoDB SDK (or the socket beneath it) into a domain error.
 * Domain errors pass through unchanged.
 *
 * @example
 * ```ts
 * try { await client.send(put) } catch (err) {
 *   throw translateDynamoDbError(err, { tableName, conditionFailed: () => new AlreadyExistsError('…') })
 * }
 * ```
 */
export function translateDynamoDbError(err: unknown, ctx: DynamoDbErrorContext): BrokerError {
  if (isBrokerError(err)) return err
  const shape: SdkErrorShape = typeof err === 'object' && err !== null ? (err as SdkErrorShape) : {}
  const name = typeof shape.name === 'string' ? shape.name : undefined
  const code = typeof shape.code === 'string' ? shape.code : undefined
  const status =
    typeof shape.$metadata?.httpStatusCode === 'number' ? shape.$metadata.httpStatusCode : undefined
  // Log-only facts; never the AWS message, which can name principals and access key ids.
  const details: Record<string, unknown> = {}
  const awsErrorName = name === undefined || name === 'Error' ? (code ?? name) : name
  if (awsErrorName !== undefined) details.awsErrorName = awsErrorName
  if (status !== undefined) details.httpStatus = status
  if (typeof shape.$metadata?.requestId === 'string') details.requestId = shape.$metadata.requestId
  const errorContext = { cause: err, details }

  const byName = RULES.find(
    (rule) =>
      rule.names !== undefined &&
      ((name !== undefined && rule.names.includes(name)) ||
        (code !== undefined && rule.names.includes(code))) &&
      (rule.when === undefined || rule.when(shape)),
  )
  const rule =
    byName ??
    RULES.find((r) => r.statuses !== undefined && status !== undefined && r.statuses.includes(status))
  return (rule?.make ?? unavailable)(ctx, errorContext)
}
