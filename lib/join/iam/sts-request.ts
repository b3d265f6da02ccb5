/**
 * Checks of the signed `sts:GetCallerIdentity` request a bot sends with an IAM join. The server
 * forwards this request to the host it names, so the request is checked field by field against
 * the one shape it may have, and each check fails with its own code (see `IamJoinErrorCode`).
 *
 * These checks are pure: the challenge itself is looked up and consumed by the caller
 * (`lib/auth/join-iam.ts`), which uses {@link challengeHeaderValues} to find it.
 */
import { IamJoinError } from '../../errors.ts'
import { isAllowedStsHost } from './sts-hosts.ts'

/** The signed request as the bot sends it in the join body. */
export interface StsRequest {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

export const STS_BODY = 'Action=GetCallerIdentity&Version=2011-06-15'
export const CHALLENGE_HEADER = 'x-credbroker-challenge'
/**
 * The origin of the auth service the request was signed for. Both the bot's join and an
 * administrator's login require it signed and equal to this service's origin
 * ({@link checkAudienceSigned}).
 */
export const AUDIENCE_HEADER = 'x-credbroker-audience'

/** Header names (lower case) a GetCallerIdentity request may carry. */
export const ALLOWED_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-type',
  'content-length',
  'accept',
  'authorization',
  'x-amz-date',
  'x-amz-security-token',
  'x-amz-content-sha256',
  'x-amz-user-agent',
  'user-agent',
  'amz-sdk-invocation-id',
  'amz-sdk-request',
  CHALLENGE_HEADER,
  AUDIENCE_HEADER,
])

export const MAX_HEADER_VALUE_BYTES = 8 * 1024
export const MAX_HEADERS_BYTES = 16 * 1024

/** The part of the URL between `//` and the path, as written (no normalisation). */
const RAW_URL = /^https:\/\/([^/?#\\]*)(\/[^?#]*)?$/

/**
 * The URL must be `https://<host>/` exactly: no userinfo, port, query, fragment or other path.
 * Checked on the raw string, because the WHATWG parser silently drops `:443`, an empty `?` or `#`
 * and resolves `/./`.
 * @returns the host as written, lower-cased
 */
export function checkStsUrl(raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new IamJoinError('ERR_IAM_BAD_URL', 'sts_request.url is not a URL')
  }
  if (url.protocol !== 'https:') throw new IamJoinError('ERR_IAM_BAD_URL', 'sts_request.url must use https')
  const match = RAW_URL.exec(raw)
  if (!match) throw new IamJoinError('ERR_IAM_BAD_URL', 'sts_request.url must not have a query or fragment')
  const authority = match[1] ?? ''
  if (authority.includes('@') || url.username !== '' || url.password !== '')
    throw new IamJoinError('ERR_IAM_BAD_URL', 'sts_request.url must not carry user information')
  const portPart = authority.startsWith('[') ? authority.slice(authority.indexOf(']') + 1) : authority
  if (portPart.includes(':') || url.port !== '')
    throw new IamJoinError('ERR_IAM_BAD_URL', 'sts_request.url must not name a port')
  if (match[2] !== '/' || url.pathname !== '/')
    throw new IamJoinError('ERR_IAM_BAD_URL', 'sts_request.url must have the path "/"')
  return authority.toLowerCase()
}

/**
 * The host (from {@link checkStsUrl}) must be an STS endpoint we know or the operator allows, and
 * every `Host` header must name that host.
 */
export function checkStsHost(
  host: string,
  headers: Readonly<Record<string, string>>,
  extraHosts: readonly string[],
): void {
  // Only plain DNS names as written: this refuses IP literals, percent-encoding and names the URL
  // parser would rewrite (IDNA maps `ſ` to `s`, for instance).
  if (!/^[a-z0-9.-]+$/.test(host) || !isAllowedStsHost(host, extraHosts)) {
    throw new IamJoinError('ERR_IAM_BAD_HOST', 'sts_request.url does not name an AWS STS endpoint', {
      details: { host: host.slice(0, 256) },
    })
  }
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'host' && value.toLowerCase() !== host) {
      throw new IamJoinError('ERR_IAM_BAD_HOST', 'the Host header differs from the host of sts_request.url')
    }
  }
}

export function checkStsMethod(method: string): void {
  if (method !== 'POST') throw new IamJoinError('ERR_IAM_BAD_METHOD', 'sts_request.method must be POST')
}

export function checkStsBody(body: string): void {
  if (body !== STS_BODY)
    throw new IamJoinError('ERR_IAM_BAD_BODY', `sts_request.body must be exactly "${STS_BODY}"`)
}

const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/
/** Visible ASCII, space and tab: nothing that could split or smuggle a header. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/

/** Only allowed headers, each once, within size limits, with a truthful Content-Length. */
export function checkStsHeaders(headers: Readonly<Record<string, string>>): void {
  const seen = new Set<string>()
  let total = 0
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase()
    if (!HEADER_NAME.test(name) || !ALLOWED_HEADERS.has(lower))
      throw new IamJoinError('ERR_IAM_BAD_HEADERS', `header "${name.slice(0, 64)}" is not allowed`)
    if (seen.has(lower)) throw new IamJoinError('ERR_IAM_BAD_HEADERS', `header "${lower}" appears twice`)
    seen.add(lower)
    const bytes = Buffer.byteLength(value, 'utf8')
    if (bytes > MAX_HEADER_VALUE_BYTES)
      throw new IamJoinError(
        'ERR_IAM_BAD_HEADERS',
        `header "${lower}" is longer than ${MAX_HEADER_VALUE_BYTES} bytes`,
      )
    if (!HEADER_VALUE.test(value))
      throw new IamJoinError('ERR_IAM_BAD_HEADERS', `header "${lower}" holds characters that are not allowed`)
    total += Buffer.byteLength(name, 'utf8') + bytes
    if (total > MAX_HEADERS_BYTES)
      throw new IamJoinError('ERR_IAM_BAD_HEADERS', `the headers are longer than ${MAX_HEADERS_BYTES} bytes`)
    if (lower === 'content-length' && value !== String(Buffer.byteLength(STS_BODY)))
      throw new IamJoinError('ERR_IAM_BAD_HEADERS', 'the Content-Length header does not match the body')
  }
}

/** Every value of the challenge header, whatever the case of its name (duplicates included). */
export function challengeHeaderValues(headers: Readonly<Record<string, string>>): string[] {
  return Object.entries(headers)
    .filter(([name]) => name.toLowerCase() === CHALLENGE_HEADER)
    .map(([, value]) => value)
}

/** The value of header `lower` (headers already checked for duplicates). */
export function headerValue(headers: Readonly<Record<string, string>>, lower: string): string | undefined {
  return Object.entries(headers).find(([name]) => name.toLowerCase() === lower)?.[1]
}

export interface SigV4Authorization {
  readonly credential: string
  readonly signedHeaders: readonly string[]
  readonly signature: string
}

const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=([A-Za-z0-9/_-]{1,512}), ?SignedHeaders=([a-z0-9;-]{1,2048}), ?Signature=([0-9a-f]{64})$/

/**
 * Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` strictly.
 * @returns undefined when the value is not exactly that shape
 */
export function parseSigV4Authorization(value: string): SigV4Authorization | undefined {
  const match = SIGV4.exec(value)
  if (!match) return undefined
  const signedHeaders = (match[2] ?? '').split(';')
  if (signedHeaders.some((name) => name === '')) return undefined
  return { credential: match[1] ?? '', signedHeaders, signature: match[3] ?? '' }
}

/** The challenge header must be covered by the SigV4 signature, or STS would not vouch for it. */
export function checkChallengeSigned(headers: Readonly<Record<string, string>>): void {
  const authorization = headerValue(headers, 'authorization')
  const parsed = authorization === undefined ? undefined : parseSigV4Authorization(authorization)
  if (!parsed)
    throw new IamJoinError(
      'ERR_IAM_UNSIGNED_CHALLENGE',
      'the Authorization header is not a SigV4 header signature',
    )
  if (!parsed.signedHeaders.includes(CHALLENGE_HEADER))
    throw new IamJoinError('ERR_IAM_UNSIGNED_CHALLENGE', `${CHALLENGE_HEADER} is not in SignedHeaders`)
}

/** The auth service a signed request must name, and how a refusal words it. */
export interface ExpectedAudience {
  /** This auth service's origin: `new URL(publicAddr).origin`, what proofs of possession name too. */
  readonly origin: string
  /** The request as refusals name it, in the caller's protocol: `the signed join request`. */
  readonly request: string
  /** What the client should change, added to the refusal of a missing or different audience. */
  readonly fix?: string
}

/**
 * The audience header must be present, covered by the SigV4 signature and equal to
 * `expected.origin` (this auth service's origin): a request signed for another server (another
 * stage, a mistyped URL, a man in the middle, a server relaying this one's challenge) cannot be
 * used here. One check for every IAM proof, so the join and the administrator login cannot drift;
 * each refusal is `ERR_IAM_BAD_HEADERS`.
 * Call after {@link checkStsHeaders} (no duplicates) and {@link checkChallengeSigned} (a SigV4
 * Authorization header).
 */
export function checkAudienceSigned(
  headers: Readonly<Record<string, string>>,
  expected: ExpectedAudience,
): void {
  const fix = expected.fix === undefined ? '' : ` (${expected.fix})`
  const audience = headerValue(headers, AUDIENCE_HEADER)
  if (audience === undefined)
    throw new IamJoinError(
      'ERR_IAM_BAD_HEADERS',
      `${expected.request} does not name the auth service it is for (${AUDIENCE_HEADER}); this one is ${expected.origin}${fix}`,
    )
  const authorization = parseSigV4Authorization(headerValue(headers, 'authorization') ?? '')
  if (!authorization?.signedHeaders.includes(AUDIENCE_HEADER))
    throw new IamJoinError('ERR_IAM_BAD_HEADERS', `${AUDIENCE_HEADER} is not in SignedHeaders`)
  if (audience !== expected.origin)
    throw new IamJoinError(
      'ERR_IAM_BAD_HEADERS',
      `${expected.request} names auth service ${JSON.stringify(audience.slice(0, 256))}; this one is ${expected.origin}${fix}`,
    )
}
