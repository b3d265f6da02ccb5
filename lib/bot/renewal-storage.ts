/**
 * The bot's internal storage: its own identity, and the renewal it may be in the middle of.
 * Storage is a {@link Destination}, whose every write replaces the whole set atomically, so the
 * set below is always one of two complete shapes, never a mix (docs/RENEWAL.md):
 *
 * | artifact               | present            | content                                          |
 * |------------------------|--------------------|--------------------------------------------------|
 * | `key`                  | always             | the identity's private key (PKCS #8 PEM)         |
 * | `tlscert`              | always             | its X.509 certificate (carries the generation)   |
 * | `key-cert.pub`         | always             | its OpenSSH certificate                          |
 * | `state.json`           | always             | {@link StoredState}                              |
 * | `pending-renewal.key`  | during a renewal   | the new private key the renewal asks to certify  |
 * | `pending-renewal.json` | during a renewal   | {@link PendingRenewalFile}: request id and more  |
 *
 * A pending renewal is written (with the current identity, unchanged) before the renewal request
 * is sent, and removed by the write that stores the renewed identity.
 */
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto'
import type { IssueResponse } from '../auth/issue-response.ts'
import type { Destination } from '../ports/destination.ts'
import type { ClientIdentity } from './auth-client.ts'

export interface BotIdentity extends ClientIdentity {
  readonly notAfter: Date
  readonly generation: number
  readonly botInstanceId: string
}

/** `state.json`. */
export interface StoredState {
  readonly bot_instance_id: string
  readonly generation: number
  readonly not_after: string
  /** SHA-256 of the token this identity was joined with (detects a new onboarding token). */
  readonly token_hash?: string
}

/** `pending-renewal.json`. */
export interface PendingRenewalFile {
  /** Sent with every attempt of this renewal; the server answers a repeat with the same result. */
  readonly request_id: string
  /** The identity the renewal started from: it must still be the stored one. */
  readonly bot_instance_id: string
  readonly generation: number
  readonly ttl_seconds: number
  readonly started_at: string
}

export interface PendingRenewal {
  readonly file: PendingRenewalFile
  /** PKCS #8 PEM. Secret. */
  readonly keyPem: string
}

export interface StoredIdentity {
  readonly identity: BotIdentity
  readonly state: StoredState
  /** An unfinished renewal of `identity`, to be completed before any new one starts. */
  readonly pending?: PendingRenewal
  /** The identity's own artifacts as read, for rewriting them unchanged beside a pending renewal. */
  readonly identityFiles: ReadonlyMap<string, Uint8Array>
}

const IDENTITY_ARTIFACTS = ['key', 'tlscert', 'key-cert.pub', 'state.json'] as const
const PENDING_KEY = 'pending-renewal.key'
const PENDING_FILE = 'pending-renewal.json'

const utf8 = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8')

/**
 * The stored identity, and its pending renewal if there is one.
 * @returns `undefined` when the storage holds no identity.
 */
export async function loadStoredIdentity(storage: Destination): Promise<StoredIdentity | undefined> {
  const files = await storage.readAll()
  const key = files.get('key')
  const cert = files.get('tlscert')
  const stateBytes = files.get('state.json')
  if (!key || !cert || !stateBytes) return undefined
  const state = JSON.parse(utf8(stateBytes)) as StoredState
  const identityFiles = new Map<string, Uint8Array>()
  for (const name of IDENTITY_ARTIFACTS) {
    const bytes = files.get(name)
    if (bytes) identityFiles.set(name, bytes)
  }
  const pending = pendingOf(files, state)
  return {
    identity: toIdentity(utf8(key), utf8(cert), state),
    state,
    ...(pending && { pending }),
    identityFiles,
  }
}

/**
 * A pending renewal belongs to the stored identity it started from. (A set where it does not
 * cannot be written by this module: the write that stores a renewed identity drops the pending
 * renewal in the same atomic step.)
 */
function pendingOf(files: ReadonlyMap<string, Uint8Array>, state: StoredState): PendingRenewal | undefined {
  const keyBytes = files.get(PENDING_KEY)
  const fileBytes = files.get(PENDING_FILE)
  if (!keyBytes || !fileBytes) return undefined
  const file = JSON.parse(utf8(fileBytes)) as PendingRenewalFile
  if (file.bot_instance_id !== state.bot_instance_id || file.generation !== state.generation) return undefined
  return { file, keyPem: utf8(keyBytes) }
}

/** Stores a pending renewal beside the unchanged identity, as one write. */
export async function savePendingRenewal(
  storage: Destination,
  stored: StoredIdentity,
  pending: PendingRenewal,
): Promise<void> {
  await storage.write(
    new Map<string, Uint8Array | string>([
      ...stored.identityFiles,
      [PENDING_KEY, pending.keyPem],
      [PENDING_FILE, `${JSON.stringify(pending.file, null, 2)}\n`],
    ]),
    { issuanceId: `renewal:${pending.file.request_id}` },
  )
}

/**
 * Stores a newly issued identity as the whole set, dropping any pending renewal in the same
 * atomic write.
 */
export async function saveIdentity(
  storage: Destination,
  keyPem: string,
  issued: IssueResponse,
  tokenHash?: string,
): Promise<BotIdentity> {
  const state: StoredState = {
    bot_instance_id: issued.identity.bot_instance_id ?? '',
    generation: issued.identity.generation,
    not_after: issued.not_after,
    ...(tokenHash !== undefined && { token_hash: tokenHash }),
  }
  await storage.write(
    new Map([
      ['key', keyPem],
      ['tlscert', issued.tls_cert],
      ['key-cert.pub', `${issued.ssh_cert ?? ''}\n`],
      ['state.json', `${JSON.stringify(state, null, 2)}\n`],
    ]),
    { issuanceId: issued.serial },
  )
  return toIdentity(keyPem, issued.tls_cert, state)
}

function toIdentity(keyPem: string, certPem: string, state: StoredState): BotIdentity {
  return {
    key: createPrivateKey(keyPem),
    tlsCertPem: certPem,
    notAfter: new Date(new X509Certificate(certPem).validTo),
    generation: state.generation,
    botInstanceId: state.bot_instance_id,
  }
}

/** True when `certPem` certifies the public half of `key`. */
export function certifiesKey(certPem: string, key: KeyObject): boolean {
  const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' }).toString('hex')
  return spki(new X509Certificate(certPem).publicKey) === spki(createPublicKey(key))
}
