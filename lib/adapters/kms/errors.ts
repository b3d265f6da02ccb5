/**
 * The one place where KMS SDK failures become domain errors (G4, G7).
 *
 * | AWS error (name, or HTTP status when the body could not be parsed) | domain error |
 * |---|---|
 * | NotFoundException | `ctx.notFound()`, else NotFoundError "does not exist" |
 * | DisabledException | InvalidConfigError on `keyId`: "is disabled" |
 * | KMSInvalidStateException (pending deletion, pending import, …) | InvalidConfigError on `keyId` |
 * | InvalidKeyUsageException | InvalidConfigError on `keyId`: cannot sign |
 * | TagException | InvalidConfigError on `tags` |
 * | ThrottlingException, TooManyRequestsException, RequestLimitExceeded, HTTP 429 | ThrottledError |
 * | LimitExceededException (a KMS quota, e.g. keys per account) | ThrottledError |
 * | AccessDenied*, UnrecognizedClient, InvalidSignature, SignatureDoesNotMatch, InvalidClientTokenId, expired tokens, HTTP 401/403 | UpstreamUnavailableError naming the denied action |
 * | KeyUnavailableException, DependencyTimeoutException, KMSInternalException, network and timeout errors, anything else | UpstreamUnavailableError |
 *
 * Access denied is ERR_UPSTREAM_UNAVAILABLE, as in the other AWS adapters: the broker's own IAM
 * policy refused it, which is no fault of the broker's caller. The message names the action
 * (`kms:Sign`, …) that the policy must allow.
 *
 * moto answers auth failures with an XML body on this JSON protocol; the SDK then throws a
 * deserialization error that still carries `$metadata.httpStatusCode`, so unmatched names fall
 * back to the status.
 *
 * Messages are ours: they name the key and the action, never credentials or AWS's own error text
 * (which can name principals and access key ids). The SDK error stays as `cause`; its name,
 * status and request id go to `details` for the logs.
 */
import {
  type BrokerError,
  InvalidConfigError,
  NotFoundError,
  ThrottledError,
  UpstreamUnavailableError,
} from '../../errors.ts'
import {
  AWS_ACCESS_DENIED_NAMES,
  AWS_UNREACHABLE_NAMES,
  type AwsErrorRule,
  translateAwsError,
} from '../aws-errors.ts'

/** The KMS actions this adapter performs (the IAM action names). */
export type KmsAction =
  | 'kms:GetPublicKey'
  | 'kms:Sign'
  | 'kms:CreateKey'
  | 'kms:TagResource'
  | 'kms:ScheduleKeyDeletion'

export interface KmsErrorContext {
  /** The failed request's action. */
  readonly action: KmsAction
  /** What the request addressed, for messages: `KMS key <id>`, or `a new KMS key for <label>`. */
  readonly subject: string
  /** What a missing key means for this operation. */
  readonly notFound?: () => BrokerError
}

type Make = AwsErrorRule<KmsErrorContext>['make']
type Rule = AwsErrorRule<KmsErrorContext>

const unavailable: Make = (ctx, ec) =>
  new UpstreamUnavailableError(`KMS failed ${ctx.action} on ${ctx.subject}; retry later`, ec)

const accessDenied: Make = (ctx, ec) =>
  new UpstreamUnavailableError(
    `KMS denied ${ctx.action} on ${ctx.subject}: the credentials' IAM policy (and the key policy) must allow ${ctx.action}`,
    ec,
  )

const throttled: Make = (ctx, ec) =>
  new ThrottledError(`KMS is throttling ${ctx.action} requests on ${ctx.subject}; retry later`, ec)

/** Checked in order; the first match by name wins, then the first match by status. */
const RULES: readonly Rule[] = [
  {
    names: ['NotFoundException'],
    make: (ctx, ec) =>
      ctx.notFound?.() ??
      new NotFoundError(`${ctx.subject} does not exist (or is in another account or region)`, ec),
  },
  {
    names: ['DisabledException'],
    make: (ctx, ec) =>
      new InvalidConfigError('keyId', `${ctx.subject} is disabled: enable it or configure another key`, ec),
  },
  {
    names: ['KMSInvalidStateException'],
    make: (ctx, ec) =>
      new InvalidConfigError(
        'keyId',
        `${ctx.subject} cannot be used in its current state (is it pending deletion?)`,
        ec,
      ),
  },
  {
    names: ['InvalidKeyUsageException'],
    make: (ctx, ec) =>
      new InvalidConfigError(
        'keyId',
        `${ctx.subject} cannot be used for ${ctx.action}: check its key usage`,
        ec,
      ),
  },
  {
    names: ['TagException'],
    make: (ctx, ec) => new InvalidConfigError('tags', `KMS refused the tags of ${ctx.subject}`, ec),
  },
  { names: ['ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded'], make: throttled },
  {
    names: ['LimitExceededException'],
    make: (ctx, ec) => new ThrottledError(`${ctx.action} on ${ctx.subject} exceeded a KMS quota`, ec),
  },
  {
    names: [
      ...AWS_UNREACHABLE_NAMES,
      'KeyUnavailableException',
      'DependencyTimeoutException',
      'KMSInternalException',
    ],
    make: unavailable,
  },
  { names: AWS_ACCESS_DENIED_NAMES, make: accessDenied },
  { statuses: [401, 403], make: accessDenied },
  { statuses: [429], make: throttled },
]

/**
 * Translates an error thrown by the KMS SDK (or the socket beneath it) into a domain error.
 * Domain errors pass through unchanged.
 */
export function translateKmsError(err: unknown, ctx: KmsErrorContext): BrokerError {
  return translateAwsError(err, ctx, RULES, unavailable, { kmsAction: ctx.action })
}
