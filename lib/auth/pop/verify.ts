/**
 * The server half of proof of possession: authenticates one HTTP request from its
 * `Authorization: PoP …` header. See `claims.ts` for the protocol and the order of the checks.
 */
import { createHash, type KeyObject, verify, X509Certificate } from 'node:crypto'
import type { Clock } from '../../clock.ts'
import { InvalidConfigError, isBrokerError } from '../../errors.ts'
import type { Identity } from '../../identity/identity.ts'
import type { Store } from '../../ports/store.ts'
import {
  checkPopClaims,
  DEFAULT_MAX_SKEW_SECONDS,
  JTI_KEY_PREFIX,
  type PopAlgorithm,
  type PopHeaders,
  type PopSignedRequest,
  readPopClaims,
  readPopHeader,
  readPopToken,
} from './claims.ts'
import { popFailure } from './errors.ts'

/** A CA whose leaves may authenticate: its DER certificate. */
export interface TrustedCa {
  readonly der: Uint8Array
}

/** The parts of an HTTP request PoP covers. */
export interface PopHttpRequest extends PopSignedRequest {
  readonly headers: PopHeaders
}

export interface PopVerifyDeps {
  /**
   * The CAs trusted now. Return the same (immutable) array while the set is unchanged and a new
   * array when it changes: parsed CAs are memoised per array, so a fresh array on every call is
   * correct but re-parses every CA on every request.
   */
  readonly trustedCas: () => readonly TrustedCa[]
  /** Reads the identity out of a leaf certificate; a `BrokerError` from it means "reject". */
  readonly decodeIdentity: (leafDer: Uint8Array) => Identity
  /** Holds replay records under `pop_jti/`. */
  readonly store: Store
  readonly clock: Clock
  /** Tolerance between `iat` (and the leaf's notBefore) and the clock; default 60. */
  readonly maxSkewSeconds?: number
  /** Verified-leaf cache; defaults to one shared by every caller in this process (safe, see the class). */
  readonly cache?: PopCertificateCache
}

export interface PopVerified {
  readonly identity: Identity
  readonly leaf: X509Certificate
  /** SHA-256 of the leaf DER, lower-case hex without separators. */
  readonly fingerprint: string
}

/** A verified leaf, as cached. Time, CA-membership and key checks are re-run on every use. */
interface LeafEntry {
  readonly leaf: X509Certificate
  readonly der: Uint8Array
  readonly fingerprint: string
  readonly publicKey: KeyObject
  readonly alg: PopAlgorithm | undefined
  readonly isCa: boolean
  readonly notBeforeMs: number
  readonly notAfterMs: number
  /** Fingerprint of the trusted CA whose signature on the leaf checked out. */
  verifiedBy?: string
  identity?: { readonly decode: PopVerifyDeps['decodeIdentity']; readonly value: Identity }
}

/**
 * A bounded LRU (default 1024 entries) of leaves that chained to a trusted CA, keyed by the exact
 * `x5c[0]` string, so a hit skips base64, hashing, X.509 parsing and the CA signature check.
 *
 * What is cached is a *fact* (this CA's key signed this leaf), never a verdict: an entry records
 * which CA verified it and is reused only while that CA is in `trustedCas()` and within its own
 * validity, so dropping a CA takes effect on the next request. Keying by the whole trust set would
 * be as safe but would evict every bot's entry when a rotation merely *adds* a CA. The leaf's own
 * validity, CA flag and key type are compared on every request (a few number comparisons), so an
 * entry is never honoured past notAfter. The decoded identity is stored with the `decodeIdentity`
 * function that produced it and recomputed for any other, so one cache may serve many verifiers.
 * Only leaves that chain to a trusted CA are inserted, so unauthenticated callers cannot churn it
 * with arbitrary certificates.
 */
export class PopCertificateCache {
  readonly #max: number
  readonly #entries = new Map<string, LeafEntry>()

  constructor(maxEntries = 1024) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new TypeError('maxEntries must be ≥ 1')
    this.#max = maxEntries
  }

  get size(): number {
    return this.#entries.size
  }

  /** @internal */
  get(key: string): LeafEntry | undefined {
    return this.#entries.get(key)
  }

  /** @internal Inserts or refreshes `key` as most recently used. */
  touch(key: string, entry: LeafEntry): void {
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as string)
  }

  /** @internal */
  delete(key: string): void {
    this.#entries.delete(key)
  }
}

const sharedCache = new PopCertificateCache()

/**
 * Authenticates `request` by its PoP header. Failures of the request are `ERR_UNAUTHENTICATED`
 * (401) with `details.reason`; a failing store surfaces as its own error (`ERR_STORE_UNAVAILABLE`).
 *
 * @example
 * ```ts
 * const { identity } = await verifyPop(
 *   { method: req.method, url: req.url, headers: req.headers, body: new Uint8Array(await req.arrayBuffer()) },
 *   { trustedCas: () => userCas, decodeIdentity, store, clock },
 * )
 * ```
 */
export async function verifyPop(request: PopHttpRequest, deps: PopVerifyDeps): Promise<PopVerified> {
  const skew = deps.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS
  if (!Number.isFinite(skew) || skew < 0) throw new TypeError('maxSkewSeconds must be ≥ 0')
  const cache = deps.cache ?? sharedCache

  // 1. Header syntax: nothing below runs for garbage.
  const jws = readPopToken(request.headers)
  const { alg, x5c } = readPopHeader(jws)

  // 2. The leaf certificate.
  const nowMs = deps.clock.now().getTime()
  const entry = trustedLeaf(x5c, trustSetOf(deps.trustedCas()), nowMs, cache)
  if (entry.isCa) throw popFailure('not_a_leaf', 'the certificate is a CA certificate, not a leaf')
  // RFC 5280 §4.1.2.5: notAfter is inclusive. No skew here: expiry is a hard limit.
  if (nowMs > entry.notAfterMs) throw popFailure('certificate_expired', 'the certificate has expired')
  if (nowMs + skew * 1000 < entry.notBeforeMs)
    throw popFailure('certificate_not_yet_valid', 'the certificate is not valid yet')
  if (entry.alg !== alg) throw popFailure('key_alg_mismatch', `the certificate key cannot sign with ${alg}`)

  // 3. The signature, by the leaf's key only (RFC 8725 §3.1: the algorithm is pinned).
  // node:crypto verifies directly; jose's WebCrypto path added ~100 µs per request. The algorithm
  // was allowlisted by readPopHeader and matched to the key above.
  const payload = verifyJwsSignature(jws, alg, entry.publicKey)

  // 4. The claims bind the signature to this request and this moment.
  const claims = readPopClaims(payload)
  checkPopClaims(claims, request, nowMs / 1000, skew)

  // 5. Replay, last: only well-formed, correctly signed, fresh tokens reach the store.
  const replayKey = JTI_KEY_PREFIX + createHash('sha256').update(claims.jti).digest('hex')
  try {
    await deps.store.create(replayKey, '', { expires: new Date((claims.iat + skew) * 1000 + 1000) })
  } catch (err) {
    if (isBrokerError(err) && err.code === 'ERR_ALREADY_EXISTS')
      throw popFailure('replayed_request', 'the token has already been used')
    throw err
  }

  // 6. Who the caller is.
  return {
    identity: identityOf(entry, deps.decodeIdentity),
    leaf: entry.leaf,
    fingerprint: entry.fingerprint,
  }
}

/** One trusted CA, parsed. */
interface ParsedCa {
  readonly cert: X509Certificate
  readonly key: KeyObject
  readonly notBeforeMs: number
  readonly notAfterMs: number
}
/** A parsed trust set by CA fingerprint, memoised per array returned by `trustedCas()`. */
type TrustSet = ReadonlyMap<string, ParsedCa>
const trustSets = new WeakMap<readonly TrustedCa[], TrustSet>()

function trustSetOf(trusted: readonly TrustedCa[]): TrustSet {
  let set = trustSets.get(trusted)
  if (set !== undefined) return set
  set = new Map(
    trusted.map(({ der }, i): [string, ParsedCa] => {
      let cert: X509Certificate
      try {
        cert = new X509Certificate(der)
      } catch (cause) {
        throw new InvalidConfigError(`trustedCas[${i}]`, 'not a DER certificate', { cause })
      }
      const validity = validityOf(cert)
      if (!cert.ca || validity === undefined)
        throw new InvalidConfigError(`trustedCas[${i}]`, 'not a usable CA certificate')
      return [sha256Hex(der), { cert, key: cert.publicKey, ...validity }]
    }),
  )
  trustSets.set(trusted, set)
  return set
}

/**
 * The cached or freshly parsed leaf, once it chains to a CA that is trusted and valid now
 * (RFC 5280 §6.1.3: every certificate on the path must be within its validity). The costly part,
 * the CA's signature on the leaf, is checked once per (leaf, CA) and redone only when that CA
 * leaves the trust set.
 */
function trustedLeaf(
  x5c: readonly string[],
  trust: TrustSet,
  nowMs: number,
  cache: PopCertificateCache,
): LeafEntry {
  const key = x5c[0] as string
  const entry = cache.get(key) ?? parseLeaf(key)
  const usable = (ca: ParsedCa | undefined): ca is ParsedCa =>
    ca !== undefined && ca.notBeforeMs <= nowMs && nowMs <= ca.notAfterMs
  if (entry.verifiedBy === undefined || !usable(trust.get(entry.verifiedBy))) {
    entry.verifiedBy = undefined
    for (const [fp, ca] of trust) {
      if (usable(ca) && entry.leaf.checkIssued(ca.cert) && safeVerify(entry.leaf, ca.key)) {
        entry.verifiedBy = fp
        break
      }
    }
    if (entry.verifiedBy === undefined) {
      cache.delete(key)
      throw popFailure('untrusted_certificate', 'the certificate is not issued by a trusted, valid CA')
    }
  }
  cache.touch(key, entry)
  return entry
}

/** The validity window in epoch milliseconds (Node 20 has no `validFromDate`). */
function validityOf(cert: X509Certificate): { notBeforeMs: number; notAfterMs: number } | undefined {
  const notBeforeMs = Date.parse(cert.validFrom)
  const notAfterMs = Date.parse(cert.validTo)
  return Number.isFinite(notBeforeMs) && Number.isFinite(notAfterMs) ? { notBeforeMs, notAfterMs } : undefined
}

function parseLeaf(base64: string): LeafEntry {
  const der = new Uint8Array(Buffer.from(base64, 'base64'))
  let leaf: X509Certificate
  try {
    leaf = new X509Certificate(der)
  } catch (cause) {
    throw popFailure('malformed_certificate', 'x5c[0] is not a DER certificate', cause)
  }
  const validity = validityOf(leaf)
  if (validity === undefined)
    throw popFailure('malformed_certificate', 'the certificate validity is unreadable')
  const publicKey = leaf.publicKey
  const fingerprint = sha256Hex(der)
  return { leaf, der, fingerprint, publicKey, alg: algorithmOf(publicKey), isCa: leaf.ca, ...validity }
}

function safeVerify(leaf: X509Certificate, key: KeyObject): boolean {
  try {
    return leaf.verify(key)
  } catch {
    return false
  }
}

function algorithmOf(key: KeyObject): PopAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA'
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256'
  return undefined
}

function identityOf(entry: LeafEntry, decode: PopVerifyDeps['decodeIdentity']): Identity {
  if (entry.identity?.decode === decode) return entry.identity.value
  let value: Identity
  try {
    value = decode(entry.der)
  } catch (err) {
    if (isBrokerError(err))
      throw popFailure('invalid_identity', 'the certificate holds no valid identity', err)
    throw err
  }
  entry.identity = { decode, value }
  return value
}

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/**
 * Checks a compact JWS signature (RFC 7515 §5.2) with `key` and returns the decoded payload.
 * ES256 and EdDSA signatures are both exactly 64 bytes (RFC 7518 §3.4: r‖s; RFC 8037 §3.1).
 */
function verifyJwsSignature(jws: string, alg: PopAlgorithm, key: KeyObject): Uint8Array {
  const lastDot = jws.lastIndexOf('.')
  const signingInput = Buffer.from(jws.slice(0, lastDot))
  const signature = Buffer.from(jws.slice(lastDot + 1), 'base64url')
  const ok =
    signature.length === 64 &&
    (alg === 'ES256'
      ? verify('sha256', signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature)
      : verify(null, signingInput, key, signature))
  if (!ok) throw popFailure('bad_signature', 'the signature does not verify with the certificate key')
  return Buffer.from(jws.slice(jws.indexOf('.') + 1, lastDot), 'base64url')
}
