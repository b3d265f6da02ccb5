/**
 * The client half of the administrators' IAM login (lib/auth/admin-login.ts): ask for a
 * challenge, sign `sts:GetCallerIdentity` with it and with the origin of `baseUrl` as audience
 * (lib/bot/iam-signer.ts, the bot's own signer: the request is never sent to AWS and the secret
 * key never leaves the signer; the audience makes it good for this auth service only), send the
 * signed request and a public key, and read the CA bundle the identity is checked against.
 *
 * @example
 * const { issued, userCaPems } = await loginWithIam({
 *   baseUrl: 'https://auth.example.com', publicKeyPem, credentials: defaultProvider(), region: 'eu-west-1',
 * })
 */
import type { Fetch } from '../bot/auth-client.ts'
import { type AwsCredentialsProvider, signGetCallerIdentity } from '../bot/iam-signer.ts'
import { readAnswer } from '../bot/remote-error.ts'
import type { Clock } from '../clock.ts'
import { UpstreamUnavailableError } from '../errors.ts'
import type { AdminLoginResponse } from './admin-login.ts'

export interface IamLoginOptions {
  /** The auth service's base URL; its origin is the audience the request is signed for. */
  readonly baseUrl: string
  readonly publicKeyPem: string
  /** Asked lifetime in seconds; the server's default (1 h) when absent, clamped to 12 h. */
  readonly ttlSeconds?: number
  readonly credentials: AwsCredentialsProvider
  /** The STS region to sign for (`us-east-1` when absent). */
  readonly region?: string
  readonly fetch?: Fetch
  /** The signing time; the system clock when absent. */
  readonly clock?: Clock
  readonly timeoutMs?: number
}

export interface IamLogin {
  readonly issued: AdminLoginResponse
  /** The user CA's TLS certificates (PEM), what the identity's certificate chains to. */
  readonly userCaPems: readonly string[]
}

/**
 * @throws RemoteError with the server's code (e.g. `ERR_IAM_NOT_ALLOWED`, 403);
 *   UpstreamUnavailableError when the server cannot be reached
 */
export async function loginWithIam(options: IamLoginOptions): Promise<IamLogin> {
  const call = caller(options)
  const { challenge } = await call<{ challenge: string }>('POST', '/v1/admin/login/iam/challenge', {})
  const stsRequest = await signGetCallerIdentity({
    challenge,
    audience: new URL(options.baseUrl).origin,
    region: options.region,
    credentials: options.credentials,
    ...(options.clock && { clock: options.clock }),
  })
  const issued = await call<AdminLoginResponse>('POST', '/v1/admin/login/iam', {
    public_key: options.publicKeyPem,
    ...(options.ttlSeconds !== undefined && { ttl_seconds: options.ttlSeconds }),
    sts_request: stsRequest,
  })
  const cas = await call<{ tls: { user: readonly string[] } }>('GET', '/v1/cas')
  return { issued, userCaPems: cas.tls.user }
}

type Call = <T>(method: string, path: string, body?: unknown) => Promise<T>

function caller(options: IamLoginOptions): Call {
  const base = options.baseUrl.replace(/\/+$/, '')
  const send = options.fetch ?? ((input, init) => fetch(input, init))
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let response: Response
    try {
      response = await send(`${base}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      })
    } catch (err) {
      throw new UpstreamUnavailableError(`auth server ${base} is unreachable`, { cause: err })
    }
    return readAnswer<T>(response)
  }
}
