/**
 * Which KMS keys can be credbroker CA keys, and the checks of `GetPublicKey`'s answer that say so.
 *
 * | SignatureAlgorithm  | KMS KeySpec                    | KMS SigningAlgorithm        | created as |
 * |---------------------|--------------------------------|-----------------------------|------------|
 * | `ecdsa-p256-sha256` | ECC_NIST_P256                  | ECDSA_SHA_256               | ECC_NIST_P256 |
 * | `rsa-pkcs1-sha256`  | RSA_2048, RSA_3072, RSA_4096   | RSASSA_PKCS1_V1_5_SHA_256   | RSA_2048   |
 *
 * Ed25519 is not offered. KMS has ECC_NIST_EDWARDS25519 keys (ED25519_SHA_512 signs RAW messages
 * only, so at most 4096 bytes), but moto 5.2, which the tests run against, has none, so such a
 * signer could not be tested here. The SSH CAs fall back to ECDSA P-256 instead.
 */
import { createPublicKey, type KeyObject } from 'node:crypto'
import type { GetPublicKeyCommandOutput, KeySpec, SigningAlgorithmSpec } from '@aws-sdk/client-kms'
import { InvalidConfigError, UpstreamUnavailableError } from '../../errors.ts'
import type { SignatureAlgorithm } from '../../ports/signer.ts'
import { isKmsKeyIdentifier } from './key-id.ts'

/** The signature algorithms a KMS key can serve. */
export type KmsSignatureAlgorithm = Extract<SignatureAlgorithm, 'ecdsa-p256-sha256' | 'rsa-pkcs1-sha256'>

interface KmsScheme {
  /** Key specs that serve the algorithm. */
  readonly keySpecs: readonly KeySpec[]
  /** The key spec of a key the store creates. */
  readonly createKeySpec: KeySpec
  readonly signingAlgorithm: SigningAlgorithmSpec
}

export const KMS_SCHEMES: Readonly<Record<KmsSignatureAlgorithm, KmsScheme>> = {
  'ecdsa-p256-sha256': {
    keySpecs: ['ECC_NIST_P256'],
    createKeySpec: 'ECC_NIST_P256',
    signingAlgorithm: 'ECDSA_SHA_256',
  },
  'rsa-pkcs1-sha256': {
    keySpecs: ['RSA_2048', 'RSA_3072', 'RSA_4096'],
    createKeySpec: 'RSA_2048',
    signingAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
  },
}

export function isKmsAlgorithm(algorithm: unknown): algorithm is KmsSignatureAlgorithm {
  return typeof algorithm === 'string' && Object.hasOwn(KMS_SCHEMES, algorithm)
}

/** A KMS key that {@link checkPublicKey} accepted. */
export interface KmsPublicKey {
  readonly algorithm: KmsSignatureAlgorithm
  readonly keySpec: KeySpec
  /** Canonical DER SubjectPublicKeyInfo. */
  readonly publicKey: Uint8Array
  /** Bytes of every signature (RSA: the modulus length); undefined for ECDSA, whose DER varies. */
  readonly signatureBytes: number | undefined
  /** The key's own id or ARN as KMS reported it (an alias resolved), when well formed. */
  readonly resolvedKeyId: string | undefined
}

const SUPPORTED = 'ECC_NIST_P256 (ECDSA_SHA_256) or RSA_2048/3072/4096 (RSASSA_PKCS1_V1_5_SHA_256)'

/**
 * Checks a `GetPublicKey` answer for `keyId`: usage SIGN_VERIFY, a supported key spec (moto
 * reports it only in the deprecated `CustomerMasterKeySpec`), the matching signing algorithm
 * offered, and a public key of that type.
 * @throws InvalidConfigError (field `keyId`) for a key credbroker cannot sign with;
 *   UpstreamUnavailableError when the answer contradicts itself or is unreadable.
 */
export function checkPublicKey(out: GetPublicKeyCommandOutput, keyId: string): KmsPublicKey {
  const unusable = (problem: string) => new InvalidConfigError('keyId', `KMS key ${keyId} ${problem}`)
  if (out.KeyUsage !== 'SIGN_VERIFY') {
    throw unusable(`has key usage ${out.KeyUsage ?? '(none)'}; a CA key needs SIGN_VERIFY`)
  }
  const keySpec = (out.KeySpec ?? out.CustomerMasterKeySpec) as KeySpec | undefined
  const algorithm = (Object.keys(KMS_SCHEMES) as KmsSignatureAlgorithm[]).find(
    (a) => keySpec !== undefined && KMS_SCHEMES[a].keySpecs.includes(keySpec),
  )
  if (algorithm === undefined || keySpec === undefined) {
    throw unusable(`is ${keySpec ?? 'of an unknown key spec'}; credbroker signs with ${SUPPORTED}`)
  }
  const { signingAlgorithm } = KMS_SCHEMES[algorithm]
  if (!out.SigningAlgorithms?.includes(signingAlgorithm)) {
    throw unusable(`(${keySpec}) does not offer the ${signingAlgorithm} signing algorithm`)
  }
  const key = parseSpki(out.PublicKey, keyId)
  const details = key.asymmetricKeyDetails
  const matches =
    algorithm === 'ecdsa-p256-sha256'
      ? key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1'
      : key.asymmetricKeyType === 'rsa' && `RSA_${details?.modulusLength}` === keySpec
  if (!matches) {
    throw new UpstreamUnavailableError(
      `KMS returned a public key for ${keyId} that does not match ${keySpec}`,
    )
  }
  return {
    algorithm,
    keySpec,
    publicKey: new Uint8Array(key.export({ type: 'spki', format: 'der' })),
    signatureBytes: algorithm === 'rsa-pkcs1-sha256' ? (details?.modulusLength as number) / 8 : undefined,
    resolvedKeyId: isKmsKeyIdentifier(out.KeyId) ? out.KeyId : undefined,
  }
}

function parseSpki(der: Uint8Array | undefined, keyId: string): KeyObject {
  const unreadable = (cause?: unknown) =>
    new UpstreamUnavailableError(`KMS returned no readable public key for ${keyId}`, { cause })
  if (!(der instanceof Uint8Array) || der.length === 0) throw unreadable()
  try {
    return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' })
  } catch (err) {
    throw unreadable(err)
  }
}
