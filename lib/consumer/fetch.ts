/**
 * The consumer side of the Secrets Manager destination: read the `AWSCURRENT` version of a secret a
 * bot writes, parse its `credbroker.v1` document with the adapter's own parser, and refuse a
 * credential that has expired.
 *
 * Expiry is `metadata.not_after` when the document carries it (an ISO timestamp), else the
 * `validTo` of the `tlscert` artifact (the first certificate of the PEM). A document with neither
 * has no known expiry (`notAfter` undefined) and is never refused for age.
 *
 * IAM actions needed: `secretsmanager:GetSecretValue` on the secret (plus `kms:Decrypt` on a
 * customer-managed KMS key the secret is encrypted with).
 */
import { X509Certificate } from 'node:crypto'
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager'
import {
  checkClientOptions,
  createSecretsManagerClient,
  type SecretsManagerApi,
  type SecretsManagerClientConfig,
} from '../adapters/secrets-manager/client.ts'
import { parseDocument, type SecretMetadata } from '../adapters/secrets-manager/document.ts'
import { translateSecretsManagerError } from '../adapters/secrets-manager/errors.ts'
import { type Clock, systemClock } from '../clock.ts'
import { NotFoundError } from '../errors.ts'

/** One fetched artifact set. */
export interface Credential {
  /** Artifact name → bytes (`key`, `tlscert`, `key-cert.pub`, …). */
  readonly artifacts: ReadonlyMap<string, Uint8Array>
  /** When the credential stops being valid; undefined when the document does not say. */
  readonly notAfter: Date | undefined
  /** The document's pass-through fields (everything but format, issuance_id, written_at, artifacts). */
  readonly metadata: SecretMetadata
  readonly issuanceId: string | undefined
  readonly writtenAt: Date
  /** The Secrets Manager version id that was read. */
  readonly versionId: string | undefined
}

export interface FetchCredentialOptions {
  /** Secret name or ARN. */
  secretId: string
  /** A client to use (left open). Give this or `clientConfig`. */
  client?: SecretsManagerApi
  /** Settings for a client built (and destroyed) by this call. */
  clientConfig?: SecretsManagerClientConfig
  clock?: Clock
}

const RESERVED = new Set(['format', 'issuance_id', 'written_at', 'artifacts'])

/**
 * Reads and checks the current credential of a secret.
 * @throws InvalidConfigError (`clientConfig…`/`client`) for bad options, or (`name`) when the
 *   secret does not hold a credbroker.v1 document; NotFoundError when the secret (or its current
 *   version) does not exist, and when the credential has expired (`details.reason: 'expired'`);
 *   the adapter's translated errors (access denied, throttling, KMS) otherwise.
 */
export async function fetchCredential(options: FetchCredentialOptions): Promise<Credential> {
  if (typeof options?.secretId !== 'string' || options.secretId === '') {
    throw new TypeError('fetchCredential needs a secretId')
  }
  checkClientOptions(options.client, options.clientConfig)
  const { secretId } = options
  const client =
    options.client ?? createSecretsManagerClient(options.clientConfig as SecretsManagerClientConfig)
  let out: { SecretString?: string | undefined; VersionId?: string | undefined }
  try {
    out = await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }))
  } catch (err) {
    throw translateSecretsManagerError(err, {
      secretName: secretId,
      notFound: () =>
        new NotFoundError(`secret "${secretId}" does not exist or has no current version`, {
          details: { secretId, reason: 'missing' },
        }),
    })
  } finally {
    if (options.client === undefined) client.destroy()
  }
  const parsed = parseDocument(out.SecretString, secretId)
  // parseDocument has checked the document; what it leaves out is read from the same JSON.
  const doc = JSON.parse(out.SecretString as string) as Record<string, unknown>
  const metadata: Record<string, SecretMetadata[string]> = {}
  for (const [key, value] of Object.entries(doc)) {
    if (!RESERVED.has(key)) metadata[key] = value as SecretMetadata[string]
  }
  const credential: Credential = {
    artifacts: parsed.artifacts,
    notAfter: expiryOf(metadata, parsed.artifacts),
    metadata,
    issuanceId: parsed.issuanceId,
    writtenAt: new Date(doc.written_at as string),
    versionId: out.VersionId,
  }
  assertNotExpired(credential, secretId, (options.clock ?? systemClock).now())
  return credential
}

/** @throws NotFoundError (`details.reason: 'expired'`) when `now` is at or past `notAfter`. */
export function assertNotExpired(
  credential: Pick<Credential, 'notAfter'>,
  secretId: string,
  now: Date,
): void {
  const { notAfter } = credential
  if (notAfter !== undefined && now.getTime() >= notAfter.getTime()) {
    throw new NotFoundError(
      `the credential in secret "${secretId}" expired at ${notAfter.toISOString()}; the bot writing it has not renewed it`,
      { details: { secretId, reason: 'expired', notAfter: notAfter.toISOString() } },
    )
  }
}

function expiryOf(metadata: SecretMetadata, artifacts: ReadonlyMap<string, Uint8Array>): Date | undefined {
  const fromMeta = metadata.not_after
  if (typeof fromMeta === 'string' && !Number.isNaN(Date.parse(fromMeta))) return new Date(fromMeta)
  const tlscert = artifacts.get('tlscert')
  if (tlscert === undefined) return undefined
  try {
    const validTo = Date.parse(new X509Certificate(tlscert).validTo)
    return Number.isNaN(validTo) ? undefined : new Date(validTo)
  } catch {
    return undefined
  }
}
