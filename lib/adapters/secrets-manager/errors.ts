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
  isBrokerError,
  ThrottledError,
  UpstreamUnavailableError,
} from '../../errors.ts'

export interface SecretsManagerErrorContext {
  /** The secret the failed request addressed. */
  secretName: string
  /** What a missing secret (or version) means for this operation. */
  notFound?: () => BrokerError
  /** What ResourceExistsException means for this operation. */
  exists?: () => BrokerError
}

type Make = (
  ctx: SecretsManagerErrorContext,
  ec: { cause: unknown; details: Record<string, unknown> },
) => BrokerError

interface Rule {
  names?: readonly string[]
  statuses?: readonly number[]
  make: Make
}

interface SdkErrorShape {
  name?: unknown
  code?: unknown
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
  'ExpiredToken',
  'CredentialsProviderError',
] as const

const UNREACHABLE_NAMES = [
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
] as const

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
  { names: ACCESS_DENIED_NAMES, make: accessDenied },
  { names: UNREACHABLE_NAMES, make: unavailable },
  { statuses: [401, 403], make: accessDenied },
  { statuses: [429], make: throttled },
]

/** The AWS error name of an SDK error (its `name`, or a socket error's `code`), if any. */
export function awsErrorName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const { name, code } = err as SdkErrorShape
  if (typeof name === 'string' && name !== 'Error') return name
  return typeof code === 'string' ? code : typeof name === 'string' ? name : undefined
}

/**
 * Translates an error thrown by the Secrets Manager SDK (or the socket beneath it) into a domain
 * error. Domain errors pass through unchanged.
 */
export function translateSecretsManagerError(err: unknown, ctx: SecretsManagerErrorContext): BrokerError {
  if (isBrokerError(err)) return err
  const shape: SdkErrorShape = typeof err === 'object' && err !== null ? (err as SdkErrorShape) : {}
  const name = typeof shape.name === 'string' ? shape.name : undefined
  const code = typeof shape.code === 'string' ? shape.code : undefined
  const status =
    typeof shape.$metadata?.httpStatusCode === 'number' ? shape.$metadata.httpStatusCode : undefined
  const details: Record<string, unknown> = { secretName: ctx.secretName }
  const awsName = awsErrorName(err)
  if (awsName !== undefined) details.awsErrorName = awsName
  if (status !== undefined) details.httpStatus = status
  if (typeof shape.$metadata?.requestId === 'string') details.requestId = shape.$metadata.requestId
  const ec = { cause: err, details }
  const matches = (n: string | undefined, rule: Rule) => n !== undefined && rule.names?.includes(n) === true
  const rule =
    RULES.find((r) => matches(name, r) || matches(code, r)) ??
    RULES.find((r) => r.statuses !== undefined && status !== undefined && r.statuses.includes(status))
  return (rule?.make ?? unavailable)(ctx, ec)
}
