/**
 * Proof of possession (PoP) for the auth HTTP API: the wire format shared by the client
 * (`client.ts`) and the server (`verify.ts`), and the pure parsing and claim checks the server
 * applies (certificate trust, signatures and replay live in `verify.ts`). No bearer secret ever travels: every request carries
 * a fresh signature by the private key of a certificate our user CA issued, bound to that one
 * request.
 *
 * ## The `Authorization` header
 * `Authorization: PoP <jws>`, where `<jws>` is a compact JWS (RFC 7515 §7.1). The scheme name is
 * matched case-insensitively (RFC 9110 §11.1).
 *
 * Protected header, and nothing else (no unprotected header exists in the compact form):
 * - `alg`: `ES256` (ECDSA P-256, RFC 7518 §3.4) or `EdDSA` (Ed25519, RFC 8037); it must match the
 *   leaf certificate's key type.
 * - `typ`: exactly {@link POP_TYP} (explicit typing, RFC 8725 §3.11), so no other JWT we or anyone
 *   issues can be replayed as a PoP token.
 * - `x5c`: the certificate chain, leaf first, each entry standard base64 (not base64url) DER
 *   (RFC 7515 §4.1.6). One entry (the leaf) or two (leaf + issuing CA). Trust never comes from the
 *   token: the server only accepts a leaf that verifies against one of *its* trusted CAs, so any
 *   entry after the leaf is informational.
 * - `kid` is ignored. `jwk`, `jku`, `x5u` and `crit` are rejected: the key comes from `x5c` only,
 *   and no extension may change how the token is processed.
 *
 * Payload ({@link PopClaims}), a JSON object:
 * - `htm`: the HTTP method, upper-case (`POST`).
 * - `htu`: the request URL as `origin + pathname + search` ({@link canonicalUrl}): scheme, host,
 *   non-default port, path and query; never the fragment. The query is included because it
 *   carries meaning (filters, page cursors) that must not be swapped under a signature. The server
 *   canonicalises both this claim and the URL it received with the WHATWG URL parser and compares
 *   the results, so `HTTPS://Host:443/a/../b` and `https://host/b` match.
 * - `bh`: base64url (no padding) SHA-256 of the exact body bytes; of the empty string when the
 *   request has no body ({@link bodyHash}).
 * - `iat`: issue time, integer seconds since the epoch. The server accepts `|iat − now| ≤ maxSkew`
 *   (default {@link DEFAULT_MAX_SKEW_SECONDS}).
 * - `jti`: a unique id, {@link JTI_BYTES} random bytes as base64url; the server accepts 16 to 128
 *   base64url characters and remembers each one until the token could no longer pass the `iat`
 *   check, so a captured request cannot be replayed.
 *
 * ## Server checks, in order (cheap before expensive; nothing is written for garbage)
 * 1. header syntax, `typ`, `alg` allowlist, forbidden header parameters, `x5c` shape;
 * 2. leaf certificate: issued by and verifying against a trusted CA that is itself within its
 *    validity, not a CA itself, within its validity window (notAfter exact, notBefore with the
 *    same `maxSkew` tolerance as `iat`, since the CA's clock and ours may differ), key type
 *    matching `alg`;
 * 3. the JWS signature, with the leaf's public key;
 * 4. the claims: `htm`, `htu`, `bh`, `iat`, `jti`;
 * 5. replay: create-if-absent of `pop_jti/<sha256 hex of jti>` in the store, expiring
 *    `maxSkew + 1` seconds after `iat`;
 * 6. the identity decoded from the leaf.
 * Every failure is `ERR_UNAUTHENTICATED` (401) with a specific message and a stable
 * {@link PopFailureReason} in `details.reason` (logs only).
 */
import { createHash } from 'node:crypto'
import { popFailure } from './errors.ts'

/** The `Authorization` scheme. */
export const POP_SCHEME = 'PoP'

/** The JWS `typ` header value. */
export const POP_TYP = 'credbroker-pop+jwt'

/** The signature algorithms a PoP token may use, by leaf key type. */
export const POP_ALGORITHMS = ['ES256', 'EdDSA'] as const
export type PopAlgorithm = (typeof POP_ALGORITHMS)[number]

/** Default tolerance, in seconds, between a token's `iat` and the server clock. */
export const DEFAULT_MAX_SKEW_SECONDS = 60

/** Random bytes in a client-generated `jti` (128 bits). */
export const JTI_BYTES = 16

/** What the server accepts as a `jti`: 16 to 128 base64url characters (at least 96 bits). */
export const JTI_PATTERN = /^[A-Za-z0-9_-]{16,128}$/

/** Store namespace of replay records: `pop_jti/<sha256 hex of jti>`. */
export const JTI_KEY_PREFIX = 'pop_jti/'

/** The protected header of a PoP token. */
export interface PopHeader {
  readonly alg: PopAlgorithm
  readonly typ: typeof POP_TYP
  /** Standard base64 DER certificates, leaf first; one or two entries. */
  readonly x5c: readonly string[]
}

/** The payload of a PoP token. */
export interface PopClaims {
  readonly htm: string
  readonly htu: string
  readonly bh: string
  readonly iat: number
  readonly jti: string
}

/** Request headers as a Web `Headers` or a plain record (Node's `IncomingHttpHeaders`). */
export type PopHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>

/** The parts of a request the claims cover. */
export interface PopSignedRequest {
  readonly method: string
  /** The absolute URL the request was received on, as the client addressed it. */
  readonly url: string | URL
  /** The exact body bytes (empty when there is none). */
  readonly body: Uint8Array
}

/** Stable reasons for a PoP failure, carried in `UnauthenticatedError.details.reason`. */
export type PopFailureReason =
  | 'missing_authorization'
  | 'unsupported_scheme'
  | 'malformed_token'
  | 'wrong_token_type'
  | 'alg_not_allowed'
  | 'header_not_allowed'
  | 'missing_certificate'
  | 'malformed_certificate'
  | 'untrusted_certificate'
  | 'not_a_leaf'
  | 'certificate_expired'
  | 'certificate_not_yet_valid'
  | 'key_alg_mismatch'
  | 'bad_signature'
  | 'malformed_claims'
  | 'method_mismatch'
  | 'url_mismatch'
  | 'body_mismatch'
  | 'stale_timestamp'
  | 'future_timestamp'
  | 'invalid_jti'
  | 'replayed_request'
  | 'invalid_identity'

/**
 * The form of a URL that `htu` carries and the server compares: `origin + pathname + search`
 * after WHATWG parsing (lower-case scheme and host, default port dropped, dot segments resolved,
 * fragment dropped).
 * @throws TypeError when `url` is not an absolute `http:` or `https:` URL (other schemes have an
 *   opaque `null` origin, which would make distinct URLs compare equal).
 */
export function canonicalUrl(url: string | URL): string {
  const u = typeof url === 'string' ? new URL(url) : url
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new TypeError(`not an http(s) URL: ${u.protocol}`)
  return u.origin + u.pathname + u.search
}

/** `bh`: base64url SHA-256 of the exact body bytes (empty body: the hash of zero bytes). */
export function bodyHash(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('base64url')
}

// ---- Parsing and checking, shared by the verifier (pure: no keys, no I/O) ----

const utf8 = new TextDecoder('utf-8', { fatal: true })
const MAX_AUTHORIZATION_LENGTH = 16 * 1024
// Parts may be empty here (`alg: none` has no signature); the checks below reject them precisely.
const BASE64URL = /^[A-Za-z0-9_-]*$/
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'crit'] as const
const ALLOWED_ALGS: ReadonlySet<string> = new Set(POP_ALGORITHMS)

/** Step 1a: the compact JWS from the `Authorization` header. */
export function readPopToken(headers: PopHeaders): string {
  const value = authorizationHeader(headers)?.trim()
  if (value === undefined || value === '')
    throw popFailure('missing_authorization', 'no Authorization header')
  if (value.length > MAX_AUTHORIZATION_LENGTH)
    throw popFailure('malformed_token', 'the Authorization header is too long')
  // RFC 9110 §11.1: the scheme is case-insensitive.
  const match = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+) +(\S+)$/.exec(value)
  if (match?.[1]?.toLowerCase() !== 'pop')
    throw popFailure('unsupported_scheme', 'the Authorization scheme must be PoP')
  return match[2] as string
}

function authorizationHeader(headers: PopHeaders): string | undefined {
  if (headers instanceof Headers) return headers.get('authorization') ?? undefined
  let found: string | undefined
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'authorization' || value === undefined) continue
    const values = typeof value === 'string' ? [value] : value
    if (found !== undefined || values.length !== 1)
      throw popFailure('malformed_token', 'more than one Authorization header')
    found = values[0]
  }
  return found
}

/** Step 1b: the protected header, checked before any key or certificate is touched. */
export function readPopHeader(jws: string): { alg: PopAlgorithm; x5c: readonly string[] } {
  const parts = jws.split('.')
  if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p)))
    throw popFailure('malformed_token', 'the token is not a compact JWS')
  const header = parseJson(parts[0] as string)
  if (header === undefined) throw popFailure('malformed_token', 'the JWS header is not a JSON object')
  if (header.typ !== POP_TYP) throw popFailure('wrong_token_type', `the JWS typ must be ${POP_TYP}`)
  const alg = header.alg
  if (typeof alg !== 'string' || !ALLOWED_ALGS.has(alg))
    throw popFailure('alg_not_allowed', `alg must be one of ${POP_ALGORITHMS.join(', ')}`)
  // The key comes from x5c alone; kid is ignored, anything that names another key is refused.
  for (const name of FORBIDDEN_HEADERS) {
    if (Object.hasOwn(header, name))
      throw popFailure('header_not_allowed', `the JWS header may not hold ${name}`)
  }
  const x5c = header.x5c
  if (x5c === undefined || (Array.isArray(x5c) && x5c.length === 0))
    throw popFailure('missing_certificate', 'the JWS header has no x5c certificate')
  // RFC 7515 §4.1.6: standard base64 DER, leaf first. We take the leaf and at most its issuer.
  if (
    !Array.isArray(x5c) ||
    x5c.length > 2 ||
    !x5c.every((c) => typeof c === 'string' && c.length % 4 === 0 && BASE64.test(c))
  )
    throw popFailure('malformed_certificate', 'x5c must hold one or two base64 DER certificates')
  return { alg: alg as PopAlgorithm, x5c: x5c as string[] }
}

function parseJson(base64url: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(utf8.decode(Buffer.from(base64url, 'base64url')))
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/** Step 4a: the claims of a verified payload, type-checked. */
export function readPopClaims(payload: Uint8Array): PopClaims {
  let value: unknown
  try {
    value = JSON.parse(utf8.decode(payload))
  } catch {
    value = undefined
  }
  const c = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>
  const { htm, htu, bh, iat, jti } = c
  if (
    typeof htm !== 'string' ||
    typeof htu !== 'string' ||
    typeof bh !== 'string' ||
    typeof jti !== 'string' ||
    typeof iat !== 'number' ||
    !Number.isSafeInteger(iat)
  )
    throw popFailure('malformed_claims', 'the token needs string htm, htu, bh, jti and an integer iat')
  return { htm, htu, bh, iat, jti }
}

/**
 * Step 4b: the claims match this request and this moment (`nowSeconds` may be fractional).
 * @throws TypeError when `request.url` is not an absolute http(s) URL: the server's own bug.
 */
export function checkPopClaims(
  claims: PopClaims,
  request: PopSignedRequest,
  nowSeconds: number,
  skew: number,
): void {
  if (claims.htm !== request.method.toUpperCase())
    throw popFailure('method_mismatch', 'the token was signed for another HTTP method')
  const received = canonicalUrl(request.url) // a TypeError here is our bug, not the caller's
  if (canonicalOrUndefined(claims.htu) !== received)
    throw popFailure('url_mismatch', 'the token was signed for another URL')
  if (claims.bh !== bodyHash(request.body))
    throw popFailure('body_mismatch', 'the body does not match the signed body hash')
  if (claims.iat < nowSeconds - skew) throw popFailure('stale_timestamp', 'the token was issued too long ago')
  if (claims.iat > nowSeconds + skew)
    throw popFailure('future_timestamp', 'the token is issued in the future')
  if (!JTI_PATTERN.test(claims.jti))
    throw popFailure('invalid_jti', 'jti must be 16 to 128 base64url characters')
}

function canonicalOrUndefined(url: string): string | undefined {
  try {
    return canonicalUrl(url)
  } catch {
    return undefined
  }
}
