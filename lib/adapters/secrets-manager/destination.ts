/**
 * The AWS Secrets Manager destination: one secret per destination, one secret version per
 * artifact set, holding one JSON document (`document.ts`). A version is written whole, so
 * readers of `AWSCURRENT` see one complete set; Secrets Manager moves `AWSPREVIOUS` to the set
 * before, which consumers can fall back to during a rollout.
 *
 * ## Ownership
 * The secret is created on the first write, tagged `credbroker:managed=true`,
 * `credbroker:bot=<bot>` and `credbroker:output=<output>`. A secret that exists without the
 * `credbroker:managed=true` tag is never written: the write fails with an InvalidConfigError on
 * `name` (SPIRE's SVIDStore refuses untagged secrets the same way).
 *
 * ## Idempotent retries
 * Every write carries a `ClientRequestToken` (`versionToken` in `document.ts`): derived from the
 * issuance id when there is one, else from the content. The same token with the same content makes
 * no new version; a retry whose `written_at` differs is recognised by comparing the stored
 * version's content. The same issuance id with *different* content is a RevisionMismatchError
 * (`ERR_REVISION_MISMATCH`) and nothing changes. A retry of an issuance that a later write has
 * since replaced stays a no-op (a late retry never brings an old issuance back); a write without
 * an issuance id whose content matches an older version makes that version current again
 * (`UpdateSecretVersionStage`).
 *
 * ## Limits and readers
 * A document over 65,536 UTF-8 bytes is a TooLargeError before any request. With `readers`, the
 * secret's resource policy allows exactly those principals `GetSecretValue` and `DescribeSecret`;
 * it is put once per instance, before its first write (after the creating one). Without readers the
 * policy is left alone. If putting the policy fails right after creation, the first set is already
 * written; the next write applies the policy again.
 *
 * IAM actions needed: {@link SECRETS_MANAGER_DESTINATION_IAM_ACTIONS} (plus `kms:GenerateDataKey`
 * and `kms:Decrypt` on a customer-managed `kmsKeyId`).
 */
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager'
import { type Clock, systemClock } from '../../clock.ts'
import { type BrokerError, InvalidConfigError, RevisionMismatchError, TooLargeError } from '../../errors.ts'
import {
  type ArtifactContent,
  assertArtifactName,
  type Destination,
  prepareArtifacts,
  type WriteResult,
} from '../../ports/destination.ts'
import { awsErrorName } from '../aws-errors.ts'
import {
  checkClientOptions,
  createSecretsManagerClient,
  type SecretsManagerApi,
  type SecretsManagerClientConfig,
} from './client.ts'
import {
  checkMetadata,
  encodeDocument,
  MAX_SECRET_STRING_BYTES,
  parseDocument,
  type SecretMetadata,
  versionToken,
} from './document.ts'
import { translateSecretsManagerError } from './errors.ts'
import {
  checkOptions,
  MANAGED_TAG,
  readerPolicy,
  type SecretsManagerDestinationOptions,
  type SecretsManagerWriteMeta,
} from './options.ts'

export type { SecretMetadata } from './document.ts'
export {
  readerPolicy,
  SECRETS_MANAGER_DESTINATION_IAM_ACTIONS,
  type SecretsManagerDestinationOptions,
  type SecretsManagerWriteMeta,
} from './options.ts'

export class SecretsManagerDestination implements Destination {
  readonly #name: string
  readonly #client: SecretsManagerApi
  readonly #ownsClient: boolean
  readonly #kmsKeyId: string | undefined
  readonly #readers: readonly string[]
  readonly #tags: { bot: string; output: string }
  readonly #description: string
  readonly #metadata: SecretMetadata | undefined
  readonly #clock: Clock
  #policyApplied = false

  /** @throws InvalidConfigError naming the offending option; TypeError for malformed metadata. */
  constructor(options: SecretsManagerDestinationOptions) {
    checkOptions(options)
    checkClientOptions(options.client, options.clientConfig)
    checkMetadata(options.metadata, 'metadata')
    this.#name = options.name
    this.#ownsClient = options.client === undefined
    this.#client =
      options.client ?? createSecretsManagerClient(options.clientConfig as SecretsManagerClientConfig)
    this.#kmsKeyId = options.kmsKeyId
    this.#readers = [...(options.readers ?? [])]
    this.#tags = { ...options.tags }
    this.#description =
      options.description ?? `credbroker output "${options.tags.output}" of bot "${options.tags.bot}"`
    this.#metadata = options.metadata === undefined ? undefined : { ...options.metadata }
    this.#clock = options.clock ?? systemClock
  }

  /**
   * @throws TypeError as the port says (and for malformed `meta.metadata`); TooLargeError when the
   *   document exceeds 65,536 bytes; InvalidConfigError (`name`) when the secret exists but is not
   *   ours; RevisionMismatchError when the issuance was already written with other content; and
   *   the translator's errors (`errors.ts`) for AWS failures.
   * @returns `{ versionId }`: the `VersionId` Secrets Manager answered, the first write's on an
   *   idempotent retry (the version the request token names).
   */
  async write(
    artifacts: ReadonlyMap<string, ArtifactContent>,
    meta?: SecretsManagerWriteMeta,
  ): Promise<WriteResult> {
    const set = prepareArtifacts(artifacts, meta)
    checkMetadata(meta?.metadata, 'meta.metadata')
    const issuanceId = meta?.issuanceId
    const { secretString, content } = encodeDocument({
      artifacts: set,
      issuanceId,
      writtenAt: this.#clock.now(),
      metadata: { ...this.#metadata, ...meta?.metadata },
    })
    const size = Buffer.byteLength(secretString, 'utf8')
    if (size > MAX_SECRET_STRING_BYTES) {
      throw new TooLargeError(
        `the artifact set for secret "${this.#name}" is ${size} bytes as JSON; Secrets Manager allows at most ${MAX_SECRET_STRING_BYTES}`,
      )
    }
    const token = versionToken(this.#name, issuanceId, content)
    let described = await this.#describe()
    if (described === undefined) {
      const created = await this.#create(secretString, token)
      if (created !== undefined) {
        await this.#applyPolicy()
        return { versionId: created }
      }
      described = await this.#describe() // created meanwhile by another writer
      if (described === undefined) throw this.#error(new Error('the secret vanished while being created'))
    }
    this.#checkOwned(described)
    await this.#applyPolicy()
    const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, s]) =>
      s.includes('AWSCURRENT'),
    )
    return { versionId: await this.#put(secretString, content, token, issuanceId, current?.[0]) }
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    assertArtifactName(name)
    return (await this.readAll()).get(name)
  }

  /** @throws InvalidConfigError (`name`) when the secret's current value is not our document. */
  async readAll(): Promise<Map<string, Uint8Array>> {
    const out = await this.#unlessMissing(() =>
      // The stage is explicit: moto 5.2 answers a stage-less read from the version it last wrote,
      // not the one UpdateSecretVersionStage made current.
      this.#client.send(new GetSecretValueCommand({ SecretId: this.#name, VersionStage: 'AWSCURRENT' })),
    )
    if (out === undefined) return new Map()
    return parseDocument(out.SecretString, this.#name).artifacts
  }

  describe(): string {
    return `aws_secrets_manager ${this.#name}`
  }

  /** Destroys a client this destination built; a given client is left to its owner. */
  close(): void {
    if (this.#ownsClient) this.#client.destroy()
  }

  async #describe(): Promise<DescribeSecretCommandOutput | undefined> {
    return this.#unlessMissing(() => this.#client.send(new DescribeSecretCommand({ SecretId: this.#name })))
  }

  /** Runs a request; a missing secret (or AWSCURRENT version) is `undefined`, not an error. */
  async #unlessMissing<T>(request: () => Promise<T>): Promise<T | undefined> {
    try {
      return await request()
    } catch (err) {
      if (awsErrorName(err) === 'ResourceNotFoundException') return undefined
      throw this.#error(err)
    }
  }

  /** Runs a request, translating its failure. */
  async #call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request()
    } catch (err) {
      throw this.#error(err)
    }
  }

  /** @returns the new version's id, or `undefined` when a secret of that name exists already. */
  async #create(secretString: string, token: string): Promise<string | undefined> {
    const command = new CreateSecretCommand({
      Name: this.#name,
      Description: this.#description,
      ...(this.#kmsKeyId === undefined ? {} : { KmsKeyId: this.#kmsKeyId }),
      Tags: [
        { Key: MANAGED_TAG, Value: 'true' },
        { Key: 'credbroker:bot', Value: this.#tags.bot },
        { Key: 'credbroker:output', Value: this.#tags.output },
      ],
      SecretString: secretString,
      ClientRequestToken: token,
    })
    try {
      const out = await this.#client.send(command)
      // The request token is the version id; AWS echoes it (an older moto may not).
      return out.VersionId ?? token
    } catch (err) {
      if (awsErrorName(err) === 'ResourceExistsException') return undefined
      throw this.#error(err)
    }
  }

  #checkOwned(described: DescribeSecretCommandOutput): void {
    if (!(described.Tags ?? []).some((t) => t.Key === MANAGED_TAG && t.Value === 'true')) {
      throw new InvalidConfigError(
        'name',
        `secret "${this.#name}" exists but is not managed by credbroker (no ${MANAGED_TAG}=true tag); refusing to overwrite it`,
      )
    }
  }

  async #applyPolicy(): Promise<void> {
    if (this.#policyApplied || this.#readers.length === 0) return
    await this.#call(() =>
      this.#client.send(
        new PutResourcePolicyCommand({
          SecretId: this.#name,
          ResourcePolicy: JSON.stringify(readerPolicy(this.#readers)),
          BlockPublicPolicy: true,
        }),
      ),
    )
    this.#policyApplied = true
  }

  async #put(
    secretString: string,
    content: string,
    token: string,
    issuanceId: string | undefined,
    previous: string | undefined,
  ): Promise<string> {
    let stages: string[]
    let versionId: string
    try {
      const out = await this.#client.send(
        new PutSecretValueCommand({
          SecretId: this.#name,
          SecretString: secretString,
          ClientRequestToken: token,
        }),
      )
      stages = out.VersionStages ?? []
      versionId = out.VersionId ?? token
    } catch (err) {
      if (awsErrorName(err) !== 'ResourceExistsException') throw this.#error(err)
      // The token names a version already: a retry (same content, another written_at) or a conflict.
      const existing = await this.#call(() =>
        this.#client.send(new GetSecretValueCommand({ SecretId: this.#name, VersionId: token })),
      )
      let same = false
      try {
        same = parseDocument(existing.SecretString, this.#name).content === content
      } catch {
        same = false
      }
      if (!same) {
        throw new RevisionMismatchError(
          issuanceId === undefined
            ? `secret "${this.#name}" holds a different version under this write's request token; nothing was written`
            : `secret "${this.#name}" already holds issuance ${issuanceId} with different artifacts; nothing was written`,
        )
      }
      stages = existing.VersionStages ?? []
      versionId = existing.VersionId ?? token
    }
    if (stages.includes('AWSCURRENT') || issuanceId !== undefined) return versionId
    try {
      await this.#client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: this.#name,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: token,
          ...(previous === undefined ? {} : { RemoveFromVersionId: previous }),
        }),
      )
    } catch (err) {
      // A concurrent writer moved AWSCURRENT since we looked: its write comes after ours.
      const now = await this.#describe()
      const current = Object.entries(now?.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))
      if (current !== undefined && current[0] !== previous) return versionId
      throw this.#error(err)
    }
    return versionId
  }

  #error(err: unknown): BrokerError {
    return translateSecretsManagerError(err, { secretName: this.#name })
  }
}
