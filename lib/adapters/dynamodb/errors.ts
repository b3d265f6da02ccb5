/**
 * The one place where DynamoDB SDK failures become domain errors (G4, G7).
 *
 * Messages are ours, safe to show to a caller, and never hold credentials or AWS's own error text
 * (which can name access key ids and principals); the SDK error stays available as `cause`, and
 * its name, HTTP status and request id go to `details` for the logs.
 */
import { type BrokerError, StoreUnavailableError, ThrottledError, TooLargeError } from '../../errors.ts'
import {
  AWS_ACCESS_DENIED_NAMES,
  AWS_UNREACHABLE_NAMES,
  type AwsErrorRule,
  translateAwsError,
} from '../aws-errors.ts'

export interface DynamoDbErrorContext {
  /** The table the failed request addressed; named in messages about a missing table. */
  tableName: string
  /**
   * The domain error a failed `ConditionExpression` means for this operation (the store decides:
   * AlreadyExists for create, RevisionMismatch for compare-and-swap, NotFound for delete).
   */
  conditionFailed?: () => BrokerError
}

type Rule = AwsErrorRule<DynamoDbErrorContext>

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
  { names: AWS_ACCESS_DENIED_NAMES, make: accessDenied },
  { names: AWS_UNREACHABLE_NAMES, make: unavailable },
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
  return translateAwsError(err, ctx, RULES, unavailable)
}
