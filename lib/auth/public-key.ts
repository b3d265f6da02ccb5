/**
 * The caller's public key, as sent in join and issuance requests: a PEM SubjectPublicKeyInfo.
 * One key serves both certificates of an identity (TLS and SSH), as in tbot. Only ECDSA P-256
 * and Ed25519 are accepted for identities (allowlist, G11); RSA is reserved for database clients.
 */

import { createPublicKey } from 'node:crypto'
import { parseSpki, type SpkiKey } from '../ca/spki.ts'
import { BadRequestError } from '../errors.ts'

export type CallerPublicKey = SpkiKey

/** An RSA public key (2048–4096 bits, exponent 65537): database client certificates only. */
export interface RsaCallerPublicKey {
  readonly type: 'rsa'
  readonly spki: Buffer
}

const RSA_MIN_BITS = 2048
const RSA_MAX_BITS = 4096

/** Room for an RSA 4096 key's PEM (about 800 characters) and then some. */
const MAX_PEM_LENGTH = 4096
const PEM = /^-----BEGIN PUBLIC KEY-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END PUBLIC KEY-----\r?\n?$/

export function parseCallerPublicKey(pem: unknown, field = 'public_key'): CallerPublicKey {
  const key = parseSpki(spkiOf(pem, field))
  if (!key) throw new BadRequestError(`${field} must be an ECDSA P-256 or Ed25519 public key`)
  return key
}

/**
 * A database client's key: ECDSA P-256, Ed25519, or RSA 2048–4096 with exponent 65537 for
 * database servers that need RSA client certificates.
 */
export function parseDatabaseClientPublicKey(
  pem: unknown,
  field = 'public_key',
): CallerPublicKey | RsaCallerPublicKey {
  const spki = spkiOf(pem, field)
  const key = parseSpki(spki)
  if (key) return key
  let details: ReturnType<typeof createPublicKey>['asymmetricKeyDetails']
  let type: string | undefined
  try {
    const parsed = createPublicKey({ key: spki, format: 'der', type: 'spki' })
    type = parsed.asymmetricKeyType
    details = parsed.asymmetricKeyDetails
  } catch {
    throw new BadRequestError(`${field} is not a valid public key`)
  }
  const bits = details?.modulusLength ?? 0
  if (type !== 'rsa' || bits < RSA_MIN_BITS || bits > RSA_MAX_BITS || details?.publicExponent !== 65537n) {
    throw new BadRequestError(
      `${field} must be an ECDSA P-256, Ed25519, or RSA ${RSA_MIN_BITS}–${RSA_MAX_BITS} (exponent 65537) public key`,
    )
  }
  return { type: 'rsa', spki }
}

function spkiOf(pem: unknown, field: string): Buffer {
  const body =
    typeof pem === 'string' && pem.length <= MAX_PEM_LENGTH ? PEM.exec(pem.trim() + '\n')?.[1] : undefined
  if (body === undefined)
    throw new BadRequestError(`${field} must be a PEM public key (-----BEGIN PUBLIC KEY-----)`)
  return Buffer.from(body.replace(/\s+/g, ''), 'base64')
}
