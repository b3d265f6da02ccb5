/**
 * Local {@link Signer}: a node:crypto private key held in this process. For tests and the
 * embedded mode only; deployed CAs use KMS so the key never leaves the key service.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import type { SignatureAlgorithm, Signer } from '../../ports/signer.ts'

export class LocalSigner implements Signer {
  readonly algorithm: SignatureAlgorithm
  readonly publicKey: Uint8Array
  readonly #key: KeyObject

  constructor(privateKey: KeyObject) {
    if (privateKey.type !== 'private') throw new TypeError('LocalSigner needs a private key')
    this.algorithm = algorithmOf(privateKey)
    this.#key = privateKey
    this.publicKey = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }))
  }

  /** A new random key of the given algorithm (RSA keys are 2048 bits). */
  static generate(algorithm: SignatureAlgorithm): LocalSigner {
    switch (algorithm) {
      case 'ecdsa-p256-sha256':
        return new LocalSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)
      case 'ed25519':
        return new LocalSigner(generateKeyPairSync('ed25519').privateKey)
      case 'rsa-pkcs1-sha256':
        return new LocalSigner(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)
    }
  }

  /** Loads a PKCS #8 PEM private key. */
  static fromPkcs8Pem(pem: string): LocalSigner {
    return new LocalSigner(createPrivateKey({ key: pem, format: 'pem' }))
  }

  /** The PKCS #8 PEM of the key, for the embedded mode's 0600 key files. Never log it. */
  exportPkcs8Pem(): string {
    return this.#key.export({ type: 'pkcs8', format: 'pem' }) as string
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    // Ed25519 hashes internally and takes no digest name; ECDSA yields DER by default.
    return sign(this.algorithm === 'ed25519' ? null : 'sha256', data, this.#key)
  }
}

function algorithmOf(key: KeyObject): SignatureAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return 'ed25519'
    case 'ec':
      if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
        throw new TypeError('only P-256 EC keys are supported')
      return 'ecdsa-p256-sha256'
    case 'rsa':
      return 'rsa-pkcs1-sha256'
    default:
      throw new TypeError(`unsupported key type ${key.asymmetricKeyType}`)
  }
}
