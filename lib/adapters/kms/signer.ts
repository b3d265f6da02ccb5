/**
 * {@link Signer} backed by an asymmetric AWS KMS key: the private key never leaves KMS, and this
 * process holds only the public key (fetched once by {@link KmsSigner.load}) and the key's id.
 * Supported keys: ECC_NIST_P256 and RSA_2048/3072/4096 with KeyUsage SIGN_VERIFY (`key-spec.ts`).
 *
 * ## Message type
 * - `DIGEST` (the default; production): `sign` hashes the data with SHA-256 itself and sends the
 *   32-byte digest with `MessageType: 'DIGEST'`, so data of any size costs one small request.
 * - `RAW` (for moto): the data itself is sent and KMS hashes it. KMS takes 1 to 4096 bytes here,
 *   so anything else is refused before any request. moto 5.2 ignores `MessageType` and always
 *   hashes what it receives: its DIGEST signatures cover SHA-256(SHA-256(data)) and verify nowhere
 *   else (stack notes §12.7). Use RAW against moto, and only there.
 *
 * ## Signatures
 * One `Sign` request per `sign()`. ECDSA signatures arrive as DER `Ecdsa-Sig-Value`; their shape
 * is checked and they are re-encoded canonically (minimal INTEGERs), as X.509 expects. RSA
 * signatures must be exactly the modulus length. A signature failing these checks is an
 * UpstreamUnavailableError: it came from a remote service and is never passed on.
 *
 * ## Aliases
 * The key is resolved once: `Sign` uses the key id `GetPublicKey` reported, so retargeting an
 * alias later cannot make signatures disagree with the cached public key.
 *
 * IAM actions: `kms:GetPublicKey` (once per signer) and `kms:Sign`.
 */
import { createHash } from 'node:crypto'
import { GetPublicKeyCommand, SignCommand, type SigningAlgorithmSpec } from '@aws-sdk/client-kms'
import { ecdsaDerToRaw, ecdsaRawToDer } from '../../ca/signature.ts'
import { InvalidConfigError, TooLargeError, UpstreamUnavailableError } from '../../errors.ts'
import type { Signer } from '../../ports/signer.ts'
import type { KmsApi } from './client.ts'
import { translateKmsError } from './errors.ts'
import { isKmsKeyIdentifier } from './key-id.ts'
import { checkPublicKey, KMS_SCHEMES, type KmsPublicKey, type KmsSignatureAlgorithm } from './key-spec.ts'

/** How the message is sent to KMS; see the module comment. */
export type KmsMessageType = 'RAW' | 'DIGEST'

/** KMS's limit on a RAW message (its API model: 1 to 4096 bytes). */
export const KMS_RAW_MESSAGE_MAX_BYTES = 4096

export interface KmsSignerOptions {
  /** A KMS client (the signer never destroys it). */
  readonly client: KmsApi
  /** Key id, key ARN, alias name (`alias/…`) or alias ARN. */
  readonly keyId: string
  /** Default `DIGEST`; `RAW` only against moto. */
  readonly messageType?: KmsMessageType
}

export class KmsSigner implements Signer {
  readonly algorithm: KmsSignatureAlgorithm
  readonly publicKey: Uint8Array
  /** The key id `Sign` requests name (an alias resolved to its key where KMS said which). */
  readonly keyId: string
  readonly #client: KmsApi
  readonly #messageType: KmsMessageType
  readonly #signingAlgorithm: SigningAlgorithmSpec
  readonly #signatureBytes: number | undefined

  private constructor(client: KmsApi, keyId: string, messageType: KmsMessageType, key: KmsPublicKey) {
    this.#client = client
    this.#messageType = messageType
    this.algorithm = key.algorithm
    this.publicKey = key.publicKey
    this.keyId = key.resolvedKeyId ?? keyId
    this.#signingAlgorithm = KMS_SCHEMES[key.algorithm].signingAlgorithm
    this.#signatureBytes = key.signatureBytes
  }

  /**
   * Fetches and checks the key's public half (one `GetPublicKey` request).
   * @throws InvalidConfigError for bad options or a key that cannot be a CA key (wrong usage or
   *   spec, disabled, pending deletion); NotFoundError when KMS has no such key;
   *   UpstreamUnavailableError / ThrottledError when KMS fails or denies access.
   */
  static async load(options: KmsSignerOptions): Promise<KmsSigner> {
    const { client, keyId } = options
    const messageType = options.messageType ?? 'DIGEST'
    if (typeof client?.send !== 'function') throw new TypeError('KmsSigner needs a KMS client')
    if (!isKmsKeyIdentifier(keyId)) {
      throw new InvalidConfigError('keyId', 'must be a KMS key id, key ARN, alias name or alias ARN')
    }
    checkMessageType(messageType)
    let out: Awaited<ReturnType<typeof getPublicKey>>
    try {
      out = await getPublicKey(client, keyId)
    } catch (err) {
      throw translateKmsError(err, { action: 'kms:GetPublicKey', subject: `KMS key ${keyId}` })
    }
    return new KmsSigner(client, keyId, messageType, checkPublicKey(out, keyId))
  }

  /**
   * @throws TooLargeError (RAW: data over 4096 bytes) or InvalidConfigError (RAW: empty data)
   *   before any request; the translator's errors (`errors.ts`) when KMS fails;
   *   UpstreamUnavailableError when KMS returns a malformed signature.
   */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    const message = this.#message(data)
    let signature: Uint8Array | undefined
    try {
      const out = await this.#client.send(
        new SignCommand({
          KeyId: this.keyId,
          Message: message,
          MessageType: this.#messageType,
          SigningAlgorithm: this.#signingAlgorithm,
        }),
      )
      signature = out.Signature
    } catch (err) {
      throw translateKmsError(err, { action: 'kms:Sign', subject: `KMS key ${this.keyId}` })
    }
    return this.#checked(signature)
  }

  #message(data: Uint8Array): Uint8Array {
    if (this.#messageType === 'DIGEST') return createHash('sha256').update(data).digest()
    if (data.length > KMS_RAW_MESSAGE_MAX_BYTES) {
      throw new TooLargeError(
        `KMS signs at most ${KMS_RAW_MESSAGE_MAX_BYTES} bytes with messageType RAW (got ${data.length}); use DIGEST`,
      )
    }
    if (data.length === 0) {
      throw new InvalidConfigError('messageType', 'KMS cannot sign an empty message with RAW; use DIGEST')
    }
    return Uint8Array.from(data)
  }

  #checked(signature: Uint8Array | undefined): Uint8Array {
    const malformed = (cause?: unknown) =>
      new UpstreamUnavailableError(`KMS returned a malformed signature for ${this.keyId}`, { cause })
    if (!(signature instanceof Uint8Array) || signature.length === 0) throw malformed()
    if (this.algorithm === 'rsa-pkcs1-sha256') {
      if (signature.length !== this.#signatureBytes) throw malformed()
      return signature
    }
    try {
      return new Uint8Array(ecdsaRawToDer(ecdsaDerToRaw(signature, 32)))
    } catch (err) {
      throw malformed(err)
    }
  }
}

function getPublicKey(client: KmsApi, keyId: string) {
  return client.send(new GetPublicKeyCommand({ KeyId: keyId }))
}

function checkMessageType(messageType: unknown): asserts messageType is KmsMessageType {
  if (messageType !== 'RAW' && messageType !== 'DIGEST') {
    throw new InvalidConfigError('messageType', 'must be DIGEST (production) or RAW (moto)')
  }
}
