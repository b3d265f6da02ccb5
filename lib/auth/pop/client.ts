/**
 * The client half of proof of possession: signs one `Authorization: PoP …` header per request
 * with the key of a certificate issued by our user CA. See `claims.ts` for the protocol.
 */
import { type KeyObject, sign, X509Certificate } from 'node:crypto'
import { type Clock, systemClock } from '../../clock.ts'
import { cryptoRandom, type Random } from '../../random.ts'
import {
  bodyHash,
  canonicalUrl,
  JTI_BYTES,
  POP_SCHEME,
  POP_TYP,
  type PopAlgorithm,
  type PopClaims,
  type PopHeader,
} from './claims.ts'

export interface PopSignerOptions {
  /** The private key of the leaf certificate: ECDSA P-256 or Ed25519. */
  readonly key: KeyObject
  /** DER certificates, leaf first: the leaf alone, or the leaf and its issuing CA. */
  readonly chain: readonly Uint8Array[]
  readonly clock?: Clock
  readonly random?: Random
}

/** One request to sign. */
export interface PopRequest {
  /** HTTP method, any case (it is sent upper-case). */
  readonly method: string
  /** The absolute URL the request goes to, query included. */
  readonly url: string | URL
  /** The exact body bytes sent (a string is sent as UTF-8); absent for no body. */
  readonly body?: Uint8Array | string
}

export interface PopSigner {
  readonly alg: PopAlgorithm
  /** The value of the `Authorization` header for `request`: `PoP <compact JWS>`. */
  sign(request: PopRequest): Promise<string>
}

const encoder = new TextEncoder()
const EMPTY = new Uint8Array(0)

/**
 * Builds a signer for one key and certificate chain. Everything that does not change between
 * requests (algorithm, `x5c`, key checks) is done once here; `sign` only hashes the body, draws a
 * `jti` and signs. jose caches the WebCrypto form of the `KeyObject`, so keep one signer per key.
 *
 * @throws TypeError when the key is not a private P-256 or Ed25519 key, the chain is empty or
 *   longer than two, or the leaf certificate does not hold the key's public half.
 *
 * @example
 * ```ts
 * const pop = createPopSigner({ key, chain: [leafDer] })
 * const body = JSON.stringify({ ttl: '1h' })
 * const url = 'https://auth.example.com/v1/certs'
 * const res = await fetch(url, {
 *   method: 'POST',
 *   body,
 *   headers: { authorization: await pop.sign({ method: 'POST', url, body }) },
 * })
 * ```
 */
export function createPopSigner(options: PopSignerOptions): PopSigner {
  const { key, chain } = options
  const clock = options.clock ?? systemClock
  const random = options.random ?? cryptoRandom
  if (key.type !== 'private') throw new TypeError('createPopSigner needs a private key')
  const alg = algorithmOf(key)
  if (chain.length < 1 || chain.length > 2)
    throw new TypeError('chain must hold the leaf certificate and at most its issuing CA')
  const leaf = new X509Certificate(chain[0] as Uint8Array)
  if (!leaf.checkPrivateKey(key)) throw new TypeError('the leaf certificate does not match the private key')
  // RFC 7515 §4.1.6: x5c entries are base64, not base64url.
  const x5c = chain.map((der) => Buffer.from(der).toString('base64'))
  const header = { alg, typ: POP_TYP, x5c } satisfies PopHeader
  // The header never changes for this key: encode it once.
  const encodedHeader = Buffer.from(JSON.stringify(header)).toString('base64url')

  return {
    alg,
    async sign(request: PopRequest): Promise<string> {
      const body = typeof request.body === 'string' ? encoder.encode(request.body) : (request.body ?? EMPTY)
      const claims: PopClaims = {
        htm: request.method.toUpperCase(),
        htu: canonicalUrl(request.url),
        bh: bodyHash(body),
        iat: Math.floor(clock.now().getTime() / 1000),
        jti: Buffer.from(random.bytes(JTI_BYTES)).toString('base64url'),
      }
      // RFC 7515 §5.1: sign ASCII(BASE64URL(header) "." BASE64URL(payload)). node:crypto signs
      // directly (jose's WebCrypto path costs a thread-pool round trip per request); RFC 7518
      // §3.4: ES256 signatures are r‖s, which `dsaEncoding: 'ieee-p1363'` produces.
      const signingInput = `${encodedHeader}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
      const signature =
        alg === 'ES256'
          ? sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' })
          : sign(null, Buffer.from(signingInput), key)
      return `${POP_SCHEME} ${signingInput}.${signature.toString('base64url')}`
    },
  }
}

function algorithmOf(key: KeyObject): PopAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA'
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256'
  throw new TypeError(`unsupported PoP key type: ${key.asymmetricKeyType ?? 'unknown'}`)
}
