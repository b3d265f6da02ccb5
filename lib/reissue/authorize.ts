/**
 * Who may call the reissue endpoint. An {@link Authorizer} looks at the request (and the
 * transport's facts in the Hono env: the Lambda IAM context, the Node socket) and returns the
 * caller's identity — the rate-limit and idempotency key — or throws. Its errors carry generic
 * messages: an unauthorized caller learns nothing about outputs or state.
 *
 * - {@link iamAuthorizer} (Lambda, Function URL with `AuthType: AWS_IAM`): AWS has verified the
 *   SigV4 signature and puts the principal in `requestContext.authorizer.iam`; the handler passes
 *   it as `env.iam` (never from a header, which any caller can set). Its `userArn` must match one
 *   of the allow-list's ARN globs (`lib/rbac/glob.ts`).
 * - {@link localAuthorizer} (the daemon on 127.0.0.1): `Authorization: Bearer <token>` compared in
 *   constant time when a token is configured; otherwise only loopback peers are accepted.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import { AccessDeniedError, UnauthenticatedError } from '../errors.ts'
import { compileArnGlob } from '../rbac/glob.ts'

/** The IAM principal of a Function URL request (`APIGatewayEventRequestContextIAMAuthorizer.iam`). */
export interface IamPrincipal {
  readonly userArn?: string | undefined
  readonly accountId?: string | undefined
}

/** What transports put in the Hono env (`app.fetch(request, env)`). */
export interface ReissueEnv {
  /** Lambda: the verified IAM caller from the event's request context. */
  readonly iam?: IamPrincipal | undefined
  /** `@hono/node-server`: the Node request, for the peer address. */
  readonly incoming?: IncomingMessage
}

export interface Caller {
  /** Stable id of the caller: an ARN, `token`, or a loopback address. */
  readonly id: string
}

/** @throws UnauthenticatedError (401) / AccessDeniedError (403), with generic messages. */
export type Authorizer = (c: Context) => Caller

const unauthenticated = () => new UnauthenticatedError('authentication required')
const denied = () => new AccessDeniedError('not allowed')

/**
 * @param patterns ARN globs (`arn:aws:sts::123456789012:assumed-role/ops-*\/*`); empty denies all.
 */
export function iamAuthorizer(patterns: readonly string[]): Authorizer {
  const matchers = patterns.map(compileArnGlob)
  return (c) => {
    const arn = (c.env as ReissueEnv | undefined)?.iam?.userArn
    if (typeof arn !== 'string' || arn === '') throw unauthenticated()
    if (!matchers.some((m) => m(arn))) throw denied()
    return { id: arn }
  }
}

/** IPv4 127/8, IPv6 ::1, and IPv4-mapped 127/8. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4)
}

/**
 * @param token the configured bearer token; absent: loopback peers only (a request without a
 *   socket, such as `app.request` in tests, is refused).
 */
export function localAuthorizer(options: { token?: string | undefined }): Authorizer {
  const expected = options.token === undefined ? undefined : digest(options.token)
  return (c) => {
    if (expected === undefined) {
      const peer = (c.env as ReissueEnv | undefined)?.incoming?.socket?.remoteAddress
      if (!isLoopback(peer)) throw denied()
      return { id: `loopback:${peer}` }
    }
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer ([^\s]+)$/i.exec(header)
    if (!match?.[1]) throw unauthenticated()
    // Digests have equal lengths, so timingSafeEqual never throws and leaks no length.
    if (!timingSafeEqual(digest(match[1]), expected)) throw unauthenticated()
    return { id: 'token' }
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}
