/**
 * {@link KeyStore} of AWS KMS keys: CA private keys are created and used inside KMS and never
 * leave it. References are `kms:<key id | key ARN | alias | alias ARN>`.
 *
 * ## Where keys come from
 * - Configured keys (`keys`, label → KMS key): provisioned by infrastructure. `generate` returns
 *   the label's key after checking that its spec serves the requested algorithm. Every process
 *   gets the same key for a label, so when two auth processes race to create the CA records, both
 *   generate the same key, and the loser's `delete` must leave it alone: it does.
 * - Created keys (`allowCreate: true`, for labels without a configured key): `CreateKey` with
 *   KeyUsage SIGN_VERIFY, a description naming the label, and tags `credbroker:managed=true`,
 *   `credbroker:label=<label>` plus `tags`. `delete` schedules their deletion after 7 days (KMS's
 *   minimum waiting period) — only for keys this instance created: a reference read from the state
 *   store is no proof that credbroker owns the key behind it.
 * - Anything else: InvalidConfigError on `keys.<label>` ("no KMS key configured for user-tls").
 *
 * A configured key's reference keeps the identifier as configured. Prefer key ARNs to aliases:
 * a CA record holding `kms:alias/…` follows the alias, so retargeting it would swap the CA key
 * under certificates already issued (signers resolve an alias once per process).
 *
 * Only ECDSA P-256 and RSA keys ({@link KmsKeyStore.supports}); `lib/ca/authorities.ts` then gives
 * the SSH CAs ECDSA P-256 keys instead of Ed25519. Signers are cached per reference, so each
 * key's public half is fetched once per instance.
 *
 * IAM actions: {@link KMS_KEY_STORE_IAM_ACTIONS}, plus {@link KMS_KEY_STORE_CREATE_IAM_ACTIONS}
 * with `allowCreate` ({@link kmsKeyStoreIamActions} gives the list for given options).
 *
 * @example
 * ```ts
 * // Deployed: keys provisioned by infra, region from the composition root's config.
 * const keys = new KmsKeyStore({ clientConfig: { region }, keys: { 'user-tls': 'alias/ca-user-tls' } })
 * // Against moto (which mishandles DIGEST): an endpoint and RAW messages.
 * const test = new KmsKeyStore({
 *   clientConfig: { region: 'us-east-1', endpoint: 'http://127.0.0.1:5000', credentials },
 *   allowCreate: true,
 *   messageType: 'RAW',
 * })
 * ```
 */
import { CreateKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms'
import { InvalidConfigError, NotFoundError, UpstreamUnavailableError } from '../../errors.ts'
import type { KeyStore } from '../../ports/key-store.ts'
import type { SignatureAlgorithm, Signer } from '../../ports/signer.ts'
import type { AwsClientConfig } from '../aws-client-config.ts'
import { awsErrorName } from '../aws-errors.ts'
import { checkKmsClientOptions, createKmsClient, type KmsApi } from './client.ts'
import { translateKmsError } from './errors.ts'
import { isKmsKeyIdentifier, kmsRef, parseKmsRef } from './key-id.ts'
import { isKmsAlgorithm, KMS_SCHEMES, type KmsSignatureAlgorithm } from './key-spec.ts'
import { checkKeyStoreOptions, createTags, KEY_LABEL, type KmsKeyStoreOptions } from './options.ts'
import { type KmsMessageType, KmsSigner } from './signer.ts'

export {
  KMS_KEY_STORE_CREATE_IAM_ACTIONS,
  KMS_KEY_STORE_IAM_ACTIONS,
  type KmsKeyStoreOptions,
  kmsKeyStoreIamActions,
} from './options.ts'

/** KMS's minimum waiting period before a scheduled deletion happens. */
export const KMS_DELETION_WINDOW_DAYS = 7

export class KmsKeyStore implements KeyStore {
  readonly #client: KmsApi
  readonly #ownsClient: boolean
  readonly #keys: ReadonlyMap<string, string>
  readonly #allowCreate: boolean
  readonly #messageType: KmsMessageType
  readonly #tags: Readonly<Record<string, string>>
  /** Loading or loaded signers by reference; a failed load is forgotten so it can be retried. */
  readonly #signers = new Map<string, Promise<KmsSigner>>()
  /**
   * Keys this instance created — the only keys `delete` destroys — by reference, with the bare key
   * id that ScheduleKeyDeletion is given (AWS takes an ARN too; moto 5.2 resolves only the id).
   */
  readonly #created = new Map<string, string>()

  /** @throws InvalidConfigError naming the offending option. No request is made here. */
  constructor(options: KmsKeyStoreOptions) {
    checkKeyStoreOptions(options)
    checkKmsClientOptions(options.client, options.clientConfig)
    this.#ownsClient = options.client === undefined
    this.#client = options.client ?? createKmsClient(options.clientConfig as AwsClientConfig)
    this.#keys = new Map(Object.entries(options.keys ?? {}))
    this.#allowCreate = options.allowCreate ?? false
    this.#messageType = options.messageType ?? 'DIGEST'
    this.#tags = { ...options.tags }
  }

  /** ECDSA P-256 and RSA (PKCS #1 v1.5, SHA-256); never Ed25519. */
  supports(algorithm: SignatureAlgorithm): boolean {
    return isKmsAlgorithm(algorithm)
  }

  /**
   * The configured key of `label`, else (with `allowCreate`) a new key.
   * @throws TypeError for an unsupported algorithm or a malformed label (programmer errors);
   *   InvalidConfigError on `keys.<label>` when no key is configured and creating is off, or the
   *   configured key is missing, unusable or of another algorithm; the translator's errors
   *   (`errors.ts`) when KMS fails.
   */
  async generate(algorithm: SignatureAlgorithm, label: string): Promise<{ ref: string; signer: Signer }> {
    if (!isKmsAlgorithm(algorithm)) {
      throw new TypeError(`KMS keys cannot be ${algorithm} keys: check supports() first`)
    }
    if (!KEY_LABEL.test(label)) throw new TypeError(`bad key label ${label}`)
    const configured = this.#keys.get(label)
    if (configured !== undefined) return this.#configured(algorithm, label, configured)
    if (!this.#allowCreate) {
      throw new InvalidConfigError(`keys.${label}`, `no KMS key configured for ${label}`)
    }
    return this.#create(algorithm, label)
  }

  /**
   * The signer of a `kms:` reference (one `GetPublicKey` per reference and instance).
   * @throws NotFoundError for anything but a well-formed `kms:` reference, or a key KMS does not
   *   have; InvalidConfigError for a key that cannot sign; the translator's errors otherwise.
   */
  async signer(ref: string): Promise<Signer> {
    const keyId = parseKmsRef(ref)
    if (keyId === undefined) throw new NotFoundError(`CA key ${ref} not found`)
    return this.#load(ref, keyId)
  }

  /**
   * Schedules the deletion of a key this instance created ({@link KMS_DELETION_WINDOW_DAYS}
   * days); any other reference — a configured key, a key from the state store, garbage — is left
   * alone. A key KMS no longer has, or that is already pending deletion, counts as deleted.
   */
  async delete(ref: string): Promise<void> {
    const keyId = this.#created.get(ref)
    if (keyId === undefined) return
    try {
      await this.#client.send(
        new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: KMS_DELETION_WINDOW_DAYS }),
      )
    } catch (err) {
      const name = awsErrorName(err)
      if (name !== 'NotFoundException' && name !== 'KMSInvalidStateException') {
        throw translateKmsError(err, { action: 'kms:ScheduleKeyDeletion', subject: `KMS key ${keyId}` })
      }
    }
    this.#created.delete(ref)
    this.#signers.delete(ref)
  }

  /** Releases the sockets of a client the store built itself; a passed-in client is left open. */
  close(): void {
    if (this.#ownsClient) this.#client.destroy()
  }

  async #configured(algorithm: KmsSignatureAlgorithm, label: string, keyId: string) {
    const ref = kmsRef(keyId)
    const field = `keys.${label}`
    let signer: KmsSigner
    try {
      signer = await this.#load(ref, keyId)
    } catch (err) {
      if (err instanceof NotFoundError) {
        throw new InvalidConfigError(field, `KMS key ${keyId} configured for ${label} does not exist`, {
          cause: err,
        })
      }
      if (err instanceof InvalidConfigError && err.field === 'keyId') {
        throw new InvalidConfigError(field, err.message.slice(err.field.length + 2), { cause: err })
      }
      throw err
    }
    if (signer.algorithm !== algorithm) {
      throw new InvalidConfigError(
        field,
        `KMS key ${keyId} is a ${signer.algorithm} key, but ${label} needs ${algorithm} (${KMS_SCHEMES[algorithm].keySpecs.join(' or ')})`,
      )
    }
    return { ref, signer }
  }

  async #create(algorithm: KmsSignatureAlgorithm, label: string) {
    let arn: string | undefined
    let keyId: string | undefined
    try {
      const out = await this.#client.send(
        new CreateKeyCommand({
          KeySpec: KMS_SCHEMES[algorithm].createKeySpec,
          KeyUsage: 'SIGN_VERIFY',
          Description: `credbroker CA key ${label}`,
          Tags: createTags(this.#tags, label),
        }),
      )
      arn = out.KeyMetadata?.Arn
      keyId = out.KeyMetadata?.KeyId
    } catch (err) {
      throw translateKmsError(err, { action: 'kms:CreateKey', subject: `a new KMS key for ${label}` })
    }
    if (!isKmsKeyIdentifier(keyId) || !isKmsKeyIdentifier(arn) || !arn.endsWith(`:key/${keyId}`)) {
      throw new UpstreamUnavailableError(`KMS CreateKey for ${label} returned no usable key id and ARN`)
    }
    // The reference holds the ARN: it names the key unambiguously whatever region reads it later.
    const ref = kmsRef(arn)
    this.#created.set(ref, keyId)
    try {
      const signer = await this.#load(ref, arn)
      if (signer.algorithm !== algorithm) {
        throw new UpstreamUnavailableError(`KMS created a key for ${label} that is not ${algorithm}`)
      }
      return { ref, signer }
    } catch (err) {
      // A key we made but cannot use is not kept (best effort; the original error wins).
      await this.delete(ref).catch(() => {})
      throw err
    }
  }

  #load(ref: string, keyId: string): Promise<KmsSigner> {
    let pending = this.#signers.get(ref)
    if (pending === undefined) {
      const loading = KmsSigner.load({ client: this.#client, keyId, messageType: this.#messageType })
      loading.catch(() => {
        if (this.#signers.get(ref) === loading) this.#signers.delete(ref)
      })
      this.#signers.set(ref, loading)
      pending = loading
    }
    return pending
  }
}
