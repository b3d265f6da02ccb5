/**
 * The bot's half of the `iam` join: a SigV4-signed `sts:GetCallerIdentity` request that the bot
 * does NOT send to AWS. It hands the request's parts to the auth service, which forwards them to
 * STS itself and learns the caller's account and ARN from the answer (Teleport's
 * `CreateSignedSTSIdentityRequest`).
 *
 * - The server's challenge travels in the signed header `x-credbroker-challenge`, so a captured
 *   request cannot answer another challenge.
 * - The auth service the request is for (its origin) travels in the signed header
 *   `x-credbroker-audience` (option `audience`), so the request is good for that service only;
 *   both the join and an administrator's login require it.
 * - The request is a header-signed `POST /` to the regional endpoint `sts.<region>.amazonaws.com`
 *   (never a presigned URL, never the global endpoint unless `stsHost` asks for it).
 * - `Accept: application/json` asks real STS for JSON (moto answers XML anyway; the server reads
 *   both).
 * - The credentials are used for the signature computation only: the returned object holds the
 *   access key id (inside `Authorization`, as every SigV4 request does) and the session token
 *   (`x-amz-security-token`, which STS needs), never the secret key.
 */
import { Hash } from '@smithy/hash-node'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'
import type { Clock } from '../clock.ts'
import { AUDIENCE_HEADER, CHALLENGE_HEADER, STS_BODY } from '../join/iam/sts-request.ts'

/** The header carrying the server's challenge; it must be among the signed headers. */
/** The protocol's constants are shared with the server's checks, so client and server cannot drift. */
export const IAM_CHALLENGE_HEADER = CHALLENGE_HEADER
/** The header naming the auth service (its origin) the request is for; signed when present. */
export const IAM_AUDIENCE_HEADER = AUDIENCE_HEADER
/** The only body the server accepts. */
export const GET_CALLER_IDENTITY_BODY = STS_BODY
export const DEFAULT_STS_REGION = 'us-east-1'

/** The shape of the AWS SDK's `AwsCredentialIdentity` (structural, so no SDK type import). */
export interface AwsCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string | undefined
}

/**
 * An AWS SDK credentials provider, e.g. `defaultProvider()` from
 * `@aws-sdk/credential-provider-node` (the Node chain: environment, profile, web identity, ECS,
 * IMDS). Built in the composition root and injected.
 */
export type AwsCredentialsProvider = () => Promise<AwsCredentials>

export interface SignedStsRequest {
  readonly method: 'POST'
  /** `https://<sts host>/` */
  readonly url: string
  /** Lower-case header names, exactly as signed (`host` included). */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

export interface SignGetCallerIdentityOptions {
  /** The server's challenge, bound into the signature. */
  readonly challenge: string
  /**
   * The origin of the auth service the request is for (`https://auth.example.com`), signed in
   * `x-credbroker-audience`; absent, no such header (the server then refuses the request).
   */
  readonly audience?: string
  /**
   * The STS region: the caller resolves it (config, then `AWS_REGION` / `AWS_DEFAULT_REGION`);
   * `undefined` or empty means {@link DEFAULT_STS_REGION}.
   */
  readonly region?: string | undefined
  readonly credentials: AwsCredentialsProvider
  /** The signing time (`X-Amz-Date`); the system clock when omitted. */
  readonly clock?: Clock
  /** Another STS host (e.g. `sts.amazonaws.com`); default `sts.<region>.amazonaws.com`. */
  readonly stsHost?: string
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/
const HOST = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/

/** Resolves the region: the explicit value, else the first non-empty fallback, else us-east-1. */
export function stsRegion(...candidates: readonly (string | undefined)[]): string {
  for (const value of candidates) if (value !== undefined && value !== '') return value
  return DEFAULT_STS_REGION
}

/** Signs `sts:GetCallerIdentity` for the given challenge; see the module comment. */
export async function signGetCallerIdentity(
  options: SignGetCallerIdentityOptions,
): Promise<SignedStsRequest> {
  const region = stsRegion(options.region)
  if (!REGION.test(region)) throw new TypeError(`not an AWS region: ${JSON.stringify(region)}`)
  const host = options.stsHost ?? `sts.${region}.amazonaws.com`
  if (!HOST.test(host)) throw new TypeError(`not an STS host name: ${JSON.stringify(host)}`)
  if (options.challenge === '' || /[\r\n]/.test(options.challenge)) {
    throw new TypeError('the IAM challenge must be a non-empty single-line string')
  }
  if (options.audience !== undefined && !/^[\x21-\x7e]+$/.test(options.audience)) {
    throw new TypeError('the audience must be a non-empty origin without spaces')
  }
  const body = GET_CALLER_IDENTITY_BODY
  const request = new HttpRequest({
    method: 'POST',
    protocol: 'https:',
    hostname: host,
    path: '/',
    headers: {
      host,
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      accept: 'application/json',
      [IAM_CHALLENGE_HEADER]: options.challenge,
      ...(options.audience !== undefined && { [IAM_AUDIENCE_HEADER]: options.audience }),
    },
    body,
  })
  const signer = new SignatureV4({
    service: 'sts',
    region,
    sha256: Hash.bind(null, 'sha256'),
    // The provider is called inside the signer only: the secret never leaves this function.
    credentials: () => options.credentials(),
  })
  const signed = (await signer.sign(request, {
    ...(options.clock && { signingDate: options.clock.now() }),
  })) as HttpRequest
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = value
  return { method: 'POST', url: `https://${host}/`, headers, body }
}
