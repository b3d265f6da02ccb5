/**
 * The one place where Secrets Manager SDK failures become domain errors (G4, G7).
 *
 * | AWS error (name, or HTTP status when the body could not be parsed) | domain error |
 * |---|---|
 * | ThrottlingException, TooManyRequestsException, RequestLimitExceeded, HTTP 429 | ThrottledError |
 * | LimitExceededException (e.g. the version quota, see peers.md §6.3) | ThrottledError |
 * | AccessDenied*, UnrecognizedClient, InvalidSignature, SignatureDoesNotMatch, InvalidClientTokenId, expired tokens, HTTP 401/403 | UpstreamUnavailableError "access … was denied" |
 * | ResourceNotFoundException | `ctx.notFound()`, else UpstreamUnavailableError "does not exist" |
 * | ResourceExistsException | `ctx.exists()`, else AlreadyExistsError |
 * | EncryptionFailure, DecryptionFailure | InvalidConfigError on `kmsKeyId` |
 * | MalformedPolicyDocumentException, PublicPolicyException | InvalidConfigError on `readers` |
 * | InvalidRequestException (e.g. the secret is scheduled for deletion) | InvalidConfigError on `name` |
 * | InternalServiceError, network and timeout errors, anything else | UpstreamUnavailableError |
 *
 * moto answers auth failures with an XML body on this JSON protocol; the SDK then throws a
 * deserialization error (often a `SyntaxError`) that still carries `$metadata.httpStatusCode`,
 * so unmatched names fall back to the status.
 *
 * Messages are ours: they name the secret but never hold credentials, secret values or AWS's own
 * error text (which can name principals and access key ids). The SDK error stays as `cause`; its
 * name, status and request id go to `details` for the logs.
 */
import {
  AlreadyExistsError,
  type BrokerError,
  InvalidConfigError,
  ThrottledError,
  UpstreamUnavailableError,
} from '../../errors.ts'
import {
  AWS_ACCESS_DENIED_NAMES,
  AWS_UNREACHABLE_NAMES,
  type AwsErrorRule,
  translateAwsError,
} from '../aws-errors.ts'

export interface SecretsManagerErrorContext {
  /** The secret the failed request addressed. */
  secretName: string
  /** What a missing secret (or version) means for this operation. */
  notFound?: () => BrokerError
  /** What ResourceExistsException means for this operation. */
  exists?: () => BrokerError
}

type Make = AwsErrorRule<SecretsManagerErrorContext>['make']
type Rule = AwsErrorRule<SecretsManagerErrorContext>

const secret = (ctx: SecretsManagerErrorContext) => `Secrets Manager secret "${ctx.secretName}"`

const unavailable: Make = (ctx, ec) =>
  new UpstreamUnavailableError(`${secret(ctx)} is unavailable: Secrets Manager failed the request`, ec)

const accessDenied: Make = (ctx, ec) =>
  new UpstreamUnavailableError(
    `access to ${secret(ctx)} was denied: check the credentials and the IAM policy`,
    ec,
  )

const throttled: Make = (ctx, ec) =>
  new ThrottledError(`Secrets Manager is throttling requests for ${secret(ctx)}; retry later`, ec)

/** Checked in order; the first match by name wins, then the first match by status. */
const RULES: readonly Rule[] = [
  {
    names: ['ResourceNotFoundException'],
    make: (ctx, ec) => ctx.notFound?.() ?? new UpstreamUnavailableError(`${secret(ctx)} does not exist`, ec),
  },
  {
    names: ['ResourceExistsException'],
    make: (ctx, ec) => ctx.exists?.() ?? new AlreadyExistsError(`${secret(ctx)} already exists`, ec),
  },
  { names: ['ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded'], make: throttled },
  {
    names: ['LimitExceededException'],
    make: (ctx, ec) =>
      new ThrottledError(
        `${secret(ctx)} reached a Secrets Manager quota (too many recent versions?); write less often`,
        ec,
      ),
  },
  {
    names: ['EncryptionFailure', 'DecryptionFailure'],
    make: (ctx, ec) =>
      new InvalidConfigError(
        'kmsKeyId',
        `Secrets Manager could not use the KMS key of ${secret(ctx)}: check the key id and the key policy`,
        ec,
      ),
  },
  {
    names: ['MalformedPolicyDocumentException', 'PublicPolicyException'],
    make: (ctx, ec) =>
      new InvalidConfigError(
        'readers',
        `Secrets Manager refused the resource policy of ${secret(ctx)}: check that every reader ARN exists`,
        ec,
      ),
  },
  {
    names: ['InvalidRequestException'],
    make: (ctx, ec) =>
      new InvalidConfigError(
        'name',
        `Secrets Manager refused the request on ${secret(ctx)} in its current state (is it scheduled for deletion?)`,
        ec,
      ),
  },
  { names: AWS_ACCESS_DENIED_NAMES, make: accessDenied },
  { names: AWS_UNREACHABLE_NAMES, make: unavailable },
  { statuses: [401, 403], make: accessDenied },
  { statuses: [429], make: throttled },
]

/**
 * Translates an error thrown by the Secrets Manager SDK (or the socket beneath it) into a domain
 * error. Domain errors pass through unchanged.
 */
export function translateSecretsManagerError(err: unknown, ctx: SecretsManagerErrorContext): BrokerError {
  return translateAwsError(err, ctx, RULES, unavailable, { secretName: ctx.secretName })
}
