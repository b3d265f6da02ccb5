/**
 * The caller's public key, as sent in join and issuance requests: a PEM SubjectPublicKeyInfo.
 * One key serves both certificates of an identity (TLS and SSH), as in tbot. Only ECDSA P-256
 * and Ed25519 are accepted for identities (allowlist, G11); RSA is reserved for database clients.
 */

import { parseSpki, type SpkiKey } from '../ca/spki.ts'
import { BadRequestError } from '../errors.ts'

export type CallerPublicKey = SpkiKey

const MAX_PEM_LENGTH = 4096
const PEM = /^-----BEGIN PUBLIC KEY-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END PUBLIC KEY-----\r?\n?$/

export function parseCallerPublicKey(pem: unknown, field = 'public_key'): CallerPublicKey {
  const body =
    typeof pem === 'string' && pem.length <= MAX_PEM_LENGTH ? PEM.exec(pem.trim() + '\n')?.[1] : undefined
  if (body === undefined)
    throw new BadRequestError(`${field} must be a PEM public key (-----BEGIN PUBLIC KEY-----)`)
  const key = parseSpki(Buffer.from(body.replace(/\s+/g, ''), 'base64'))
  if (!key) throw new BadRequestError(`${field} must be an ECDSA P-256 or Ed25519 public key`)
  return key
}
