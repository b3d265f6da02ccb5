/**
 * Domain errors with stable codes.
 *
 * Two families, kept apart on purpose:
 * - Programmer mistakes (calling an API wrongly from our own code) throw `TypeError` or a plain
 *   `Error`. They become a generic 500 and are logged in full; callers never see their text.
 * - Anything caused by input we do not control (a request, a resource document, a config file, an
 *   AWS response, the state store) throws a {@link BrokerError} subclass. Its `code` is API: it is
 *   returned to callers, asserted by tests and must never change meaning. A new meaning gets a new
 *   code. Its `message` is safe to show to the caller; `details` and `cause` are for logs only.
 */

/** Every stable error code, as a union so `switch (err.code)` narrows. */
export type BrokerErrorCode =
  | 'ERR_BAD_REQUEST'
  | 'ERR_INVALID_RESOURCE'
  | 'ERR_INVALID_CONFIG'
  | 'ERR_INVALID_KEY'
  | 'ERR_TOO_LARGE'
  | 'ERR_NOT_FOUND'
  | 'ERR_ALREADY_EXISTS'
  | 'ERR_REVISION_MISMATCH'
  | 'ERR_UNAUTHENTICATED'
  | 'ERR_ACCESS_DENIED'
  | 'ERR_THROTTLED'
  | 'ERR_STORE_UNAVAILABLE'
  | 'ERR_UPSTREAM_UNAVAILABLE'
  | 'ERR_OUTPUTS_FAILED'
  | 'ERR_ROTATION_PHASE'
  /** Only in HTTP responses: an unexpected failure whose details stay in the server's log. */
  | 'ERR_INTERNAL'
  | IamJoinErrorCode

/**
 * Why an IAM join was refused. Each check of the join has its own code, so operators and tests
 * can tell a misconfigured client from an attack. Statuses: 400 for malformed requests, 401 for
 * failed proofs, 403 for policy, 502/504 for STS itself.
 */
export type IamJoinErrorCode =
  | 'ERR_JOIN_TOKEN_INVALID' // no such token (or expired)
  | 'ERR_JOIN_METHOD_MISMATCH' // the token is not for this join method
  | 'ERR_JOIN_LOCKED' // a lock targets the token or the bot
  | 'ERR_IAM_BAD_URL' // not https, a query, a path other than /, userinfo or a port
  | 'ERR_IAM_BAD_HOST' // not an STS endpoint we know or allow
  | 'ERR_IAM_BAD_METHOD' // not POST
  | 'ERR_IAM_BAD_BODY' // not exactly Action=GetCallerIdentity&Version=2011-06-15
  | 'ERR_IAM_BAD_HEADERS' // a header outside the allow-list, or headers too large
  | 'ERR_IAM_BAD_CHALLENGE' // missing, unknown, reused, expired or for another token
  | 'ERR_IAM_UNSIGNED_CHALLENGE' // the challenge header is not in SignedHeaders
  | 'ERR_IAM_STS_REJECTED' // STS answered non-200 (bad signature, expired credentials)
  | 'ERR_IAM_STS_INVALID_RESPONSE' // STS answered 200 with something we cannot read
  | 'ERR_IAM_STS_UNAVAILABLE' // STS unreachable or too slow
  | 'ERR_IAM_NOT_ALLOWED' // the caller's account/ARN matches no allow rule
/** HTTP statuses a {@link BrokerError} may carry. */
export type BrokerErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 502 | 503 | 504

/** Log-only context. Never returned to a caller. */
export interface ErrorContext {
  cause?: unknown
  details?: Record<string, unknown>
}

/** Base class of every error caused by input we do not control. */
export abstract class BrokerError extends Error {
  abstract readonly code: BrokerErrorCode
  abstract readonly status: BrokerErrorStatus
  /** Extra facts for the logs; never sent to callers and never holding secret material. */
  readonly details: Record<string, unknown> | undefined

  constructor(message: string, ctx: ErrorContext = {}) {
    super(message, ctx.cause === undefined ? undefined : { cause: ctx.cause })
    this.name = new.target.name
    this.details = ctx.details
  }

  /** The caller-safe view: what an HTTP API returns as its body. */
  toJSON(): { code: BrokerErrorCode; message: string } {
    return { code: this.code, message: this.message }
  }
}

/** A request is malformed (bad JSON, missing field, wrong type). */
export class BadRequestError extends BrokerError {
  override readonly code = 'ERR_BAD_REQUEST' as const
  override readonly status = 400 as const
}

/**
 * A resource document failed validation. `field` is the dotted path of the offending field
 * (`spec.allow.db_labels`), or `''` for the document as a whole.
 */
export class InvalidResourceError extends BrokerError {
  override readonly code = 'ERR_INVALID_RESOURCE' as const
  override readonly status = 400 as const
  readonly field: string
  /** The problem without the field prefix. */
  readonly problem: string
  constructor(field: string, problem: string, ctx?: ErrorContext) {
    super(field === '' ? problem : `${field}: ${problem}`, ctx)
    this.field = field
    this.problem = problem
  }
}

/**
 * Configuration (environment or a config file) is invalid. `field` names the variable or key.
 * Status 500: from a caller's point of view this is the operator's mistake, not theirs.
 */
export class InvalidConfigError extends BrokerError {
  override readonly code = 'ERR_INVALID_CONFIG' as const
  override readonly status = 500 as const
  readonly field: string
  constructor(field: string, problem: string, ctx?: ErrorContext) {
    super(`${field}: ${problem}`, ctx)
    this.field = field
  }
}

/** A state store key is not acceptable (empty, too long, characters outside the allowed set). */
export class InvalidKeyError extends BrokerError {
  override readonly code = 'ERR_INVALID_KEY' as const
  override readonly status = 400 as const
}

/** Input exceeds a size limit. The message names the limit. */
export class TooLargeError extends BrokerError {
  override readonly code = 'ERR_TOO_LARGE' as const
  override readonly status = 413 as const
}

/** The named thing does not exist (or has expired, which is the same to every reader). */
export class NotFoundError extends BrokerError {
  override readonly code = 'ERR_NOT_FOUND' as const
  override readonly status = 404 as const
}

/** A create found the key already present. */
export class AlreadyExistsError extends BrokerError {
  override readonly code = 'ERR_ALREADY_EXISTS' as const
  override readonly status = 409 as const
}

/** A conditional write or delete saw a different revision (or no item) than the caller expected. */
export class RevisionMismatchError extends BrokerError {
  override readonly code = 'ERR_REVISION_MISMATCH' as const
  override readonly status = 409 as const
}

/** A CA rotation step that the CA's current phase does not allow (`init` while in `standby`…). */
export class RotationPhaseError extends BrokerError {
  override readonly code = 'ERR_ROTATION_PHASE' as const
  override readonly status = 409 as const
}

/** The caller could not be authenticated. */
export class UnauthenticatedError extends BrokerError {
  override readonly code = 'ERR_UNAUTHENTICATED' as const
  override readonly status = 401 as const
}

/** The caller is authenticated but policy (RBAC, a lock) refuses the action. */
export class AccessDeniedError extends BrokerError {
  override readonly code = 'ERR_ACCESS_DENIED' as const
  override readonly status = 403 as const
}

/** A dependency asked us to slow down. Safe to retry after a backoff. */
export class ThrottledError extends BrokerError {
  override readonly code = 'ERR_THROTTLED' as const
  override readonly status = 429 as const
}

/** The state store cannot be reached or failed in a way that says nothing about the data. */
export class StoreUnavailableError extends BrokerError {
  override readonly code = 'ERR_STORE_UNAVAILABLE' as const
  override readonly status = 503 as const
}

/** Another service we depend on (STS, Secrets Manager, KMS) failed. */
export class UpstreamUnavailableError extends BrokerError {
  override readonly code = 'ERR_UPSTREAM_UNAVAILABLE' as const
  override readonly status = 503 as const
}

/** Narrowing helper for `catch (err)` blocks. */
export function isBrokerError(err: unknown): err is BrokerError {
  return err instanceof BrokerError
}

const IAM_JOIN_STATUS: Record<IamJoinErrorCode, BrokerErrorStatus> = {
  ERR_JOIN_TOKEN_INVALID: 401,
  ERR_JOIN_METHOD_MISMATCH: 403,
  ERR_JOIN_LOCKED: 403,
  ERR_IAM_BAD_URL: 400,
  ERR_IAM_BAD_HOST: 400,
  ERR_IAM_BAD_METHOD: 400,
  ERR_IAM_BAD_BODY: 400,
  ERR_IAM_BAD_HEADERS: 400,
  ERR_IAM_BAD_CHALLENGE: 401,
  ERR_IAM_UNSIGNED_CHALLENGE: 401,
  ERR_IAM_STS_REJECTED: 401,
  ERR_IAM_STS_INVALID_RESPONSE: 502,
  ERR_IAM_STS_UNAVAILABLE: 504,
  ERR_IAM_NOT_ALLOWED: 403,
}

/** A refused IAM join; `code` says which check failed. */
export class IamJoinError extends BrokerError {
  override readonly code: IamJoinErrorCode
  override readonly status: BrokerErrorStatus
  constructor(code: IamJoinErrorCode, message: string, ctx?: ErrorContext) {
    super(message, ctx)
    this.code = code
    this.status = IAM_JOIN_STATUS[code]
  }
}
