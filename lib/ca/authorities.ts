/**
 * The cluster's certificate authorities: their records in the state store, and loading them
 * (creating them on first start) into signers ready to issue.
 *
 * | CA     | X.509 (TLS)                    | OpenSSH            | JWT    |
 * |--------|--------------------------------|--------------------|--------|
 * | `user` | client certificates of bots    | user certificates  |        |
 * | `host` | server certificates            | host certificates  |        |
 * | `db`   | database client certificates   |                    |        |
 * | `jwt`  |                                |                    | ES256  |
 *
 * Each key's algorithm is the first of a preference list that the {@link KeyStore} supports:
 * SSH CA keys are Ed25519 where the store can hold them and ECDSA P-256 otherwise (KMS); the
 * X.509 and JWT keys are ECDSA P-256.
 *
 * Records live under `cert_authority/<type>` and hold public material plus key references; the
 * private keys stay in the {@link KeyStore}. Two processes starting at once race on
 * `store.create`: the loser discards its keys and loads the winner's record.
 */
import { createPublicKey, X509Certificate } from 'node:crypto'
import { AsnConvert } from '@peculiar/asn1-schema'
import { Certificate } from '@peculiar/asn1-x509'
import { calculateJwkThumbprint, type JWK } from 'jose'
import * as z from 'zod'
import type { Clock } from '../clock.ts'
import { AlreadyExistsError, InvalidConfigError, NotFoundError, StoreUnavailableError } from '../errors.ts'
import type { KeyStore } from '../ports/key-store.ts'
import type { SignatureAlgorithm, Signer } from '../ports/signer.ts'
import type { Store } from '../ports/store.ts'
import type { Random } from '../random.ts'
import { createCaCertificate } from './ca-certificate.ts'
import { ROTATION_PHASES, type RotationMode, type RotationPhase } from './rotation-phases.ts'
import { authorizedKeyLine } from './ssh/public-key.ts'
import { certificatePem } from './x509/certificate.ts'
import { keyIdentifier } from './x509/extensions.ts'

export type CaType = 'user' | 'host' | 'db' | 'jwt'
export const CA_TYPES: readonly CaType[] = ['user', 'host', 'db', 'jwt']

type Preference = readonly SignatureAlgorithm[]

/** SSH CA keys: Ed25519 first, ECDSA P-256 where the key store holds no Ed25519 keys (KMS). */
const SSH_CA: Preference = ['ed25519', 'ecdsa-p256-sha256']
/** X.509 CA keys and the JWT key (ES256): ECDSA P-256 only. */
const P256_ONLY: Preference = ['ecdsa-p256-sha256']

/** Which keys each CA has, and the algorithms each may use, most preferred first. */
const CA_KEYS: Record<CaType, { tls?: Preference; ssh?: Preference; jwt?: Preference }> = {
  user: { tls: P256_ONLY, ssh: SSH_CA },
  host: { tls: P256_ONLY, ssh: SSH_CA },
  db: { tls: P256_ONLY },
  jwt: { jwt: P256_ONLY },
}

/**
 * The first algorithm of `preference` that `keys` supports.
 * @throws InvalidConfigError when it supports none: the configured key store cannot hold this CA.
 */
function pickAlgorithm(keys: KeyStore, preference: Preference, label: string): SignatureAlgorithm {
  const algorithm = preference.find((a) => keys.supports(a))
  if (algorithm === undefined) {
    throw new InvalidConfigError(
      'keyStore',
      `the key store supports none of ${preference.join(', ')}, which the ${label} CA key needs`,
    )
  }
  return algorithm
}

/** One generation of a CA's keys, as stored. */
export interface CaKeySetRecord {
  readonly tls?: { readonly key_ref: string; readonly cert_pem: string }
  readonly ssh?: { readonly key_ref: string; readonly public_key: string }
  readonly jwt?: { readonly key_ref: string; readonly jwk: JWK; readonly kid: string }
}

/** Where a CA is in its rotation (`rotation-phases.ts`); a record without one is in `standby`. */
export interface CaRotationRecord {
  readonly phase: RotationPhase
  readonly mode: RotationMode
  readonly grace_period_ms: number
  /** When the current phase began (ISO 8601). */
  readonly phase_since: string
  /** When the current rotation began (`init`); absent in `standby`. */
  readonly started_at?: string
  /** When the key that signs now started signing in this rotation (update_clients, rollback). */
  readonly signer_since?: string
  /** When the last rotation completed or was rolled back. */
  readonly last_rotated_at?: string
  /** How many key sets this CA has made (0: only the first); names new keys (`user-tls-2`). */
  readonly generation: number
}

export interface CaRecord {
  readonly type: CaType
  readonly cluster_name: string
  /** The key set that signs. */
  readonly active: CaKeySetRecord
  /** Key sets trusted but not signing: the other key of a rotation in progress. */
  readonly additional_trusted: readonly CaKeySetRecord[]
  readonly created_at: string
  readonly rotation?: CaRotationRecord
}

/** A CA ready to issue. */
export interface LoadedCa {
  readonly type: CaType
  readonly tls?: {
    readonly signer: Signer
    readonly certDer: Buffer
    readonly certPem: string
    readonly cert: X509Certificate
    /** DER Name: the issuer of every leaf. */
    readonly subject: Buffer
    readonly keyId: Buffer
  }
  readonly ssh?: { readonly signer: Signer; readonly publicKey: string }
  readonly jwt?: { readonly signer: Signer; readonly jwk: JWK; readonly kid: string }
  /** PEMs of every trusted X.509 CA certificate (active first). */
  readonly trustedTlsPems: readonly string[]
  /** Parsed trusted X.509 CA certificates (active first), for verifying clients. */
  readonly trustedTlsCerts: readonly X509Certificate[]
  /** `authorized_keys` lines of every trusted SSH CA key (active first). */
  readonly trustedSshKeys: readonly string[]
  /** Public JWKs of every trusted JWT key (active first). */
  readonly trustedJwks: readonly JWK[]
  /** The CA's rotation state (a standby state for records that never rotated). */
  readonly rotation: CaRotationRecord
}

export type CertAuthorities = Readonly<Record<CaType, LoadedCa>>

export interface AuthoritiesDeps {
  readonly store: Store
  readonly keys: KeyStore
  readonly clusterName: string
  readonly clock: Clock
  readonly random: Random
}

export const caKey = (type: CaType): string => `cert_authority/${type}`

/** A stored CA record with the revision it was read at (for compare-and-swap). */
export interface StoredCaRecord {
  readonly record: CaRecord
  readonly revision: string
}

/** Reads and checks one CA record; `undefined` when the CA was never created. */
export async function readCaRecord(store: Store, type: CaType): Promise<StoredCaRecord | undefined> {
  const item = await store.get(caKey(type))
  return item && { record: parseRecord(item.value), revision: item.revision }
}

/** The rotation state of a record, defaulting records that never rotated to `standby`. */
export function rotationOf(record: CaRecord): CaRotationRecord {
  return (
    record.rotation ?? {
      phase: 'standby',
      mode: 'manual',
      grace_period_ms: 0,
      phase_since: record.created_at,
      generation: 0,
    }
  )
}

/** Loads every CA, creating the missing ones. */
export async function loadOrCreateAuthorities(deps: AuthoritiesDeps): Promise<CertAuthorities> {
  return (await loadOrCreateRevisions(deps)).cas
}

/** {@link loadOrCreateAuthorities}, plus the revision each record was read or written at. */
export async function loadOrCreateRevisions(
  deps: AuthoritiesDeps,
): Promise<{ cas: CertAuthorities; revisions: ReadonlyMap<CaType, string> }> {
  const entries = await Promise.all(
    CA_TYPES.map(async (type) => [type, await loadOrCreate(deps, type)] as const),
  )
  return {
    cas: Object.freeze(
      Object.fromEntries(entries.map(([type, e]) => [type, e.ca])) as Record<CaType, LoadedCa>,
    ),
    revisions: new Map(entries.map(([type, e]) => [type, e.revision])),
  }
}

async function loadOrCreate(
  deps: AuthoritiesDeps,
  type: CaType,
): Promise<{ ca: LoadedCa; revision: string }> {
  const existing = await readCaRecord(deps.store, type)
  if (existing) return { ca: await loadChecked(deps.keys, existing.record), revision: existing.revision }
  const record = await newRecord(deps, type)
  try {
    const { revision } = await deps.store.create(caKey(type), JSON.stringify(record))
    return { ca: await load(deps.keys, record), revision }
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err
    // Another process created this CA first: use its keys and drop ours.
    await Promise.all(keyRefs(record).map((ref) => deps.keys.delete(ref)))
    const winner = await readCaRecord(deps.store, type)
    if (!winner)
      throw new StoreUnavailableError(`the ${type} CA record vanished while starting`, { cause: err })
    return { ca: await loadChecked(deps.keys, winner.record), revision: winner.revision }
  }
}

function keyRefs(record: CaRecord): string[] {
  return keySetRefs(record.active)
}

/** The key store references of one key set. */
export function keySetRefs(set: CaKeySetRecord): string[] {
  const { tls, ssh, jwt } = set
  return [tls?.key_ref, ssh?.key_ref, jwt?.key_ref].filter((ref): ref is string => ref !== undefined)
}

/** Loads a stored record; unreadable certificates are a store problem, not a bug. */
export async function loadChecked(keys: KeyStore, record: CaRecord): Promise<LoadedCa> {
  try {
    return await load(keys, record)
  } catch (err) {
    if (err instanceof StoreUnavailableError || err instanceof NotFoundError) throw err
    throw corrupt(err)
  }
}

/** A new record with fresh keys (generation 0). */
async function newRecord(deps: AuthoritiesDeps, type: CaType): Promise<CaRecord> {
  const active = await newKeySet(deps, type, 0)
  return {
    type,
    cluster_name: deps.clusterName,
    active,
    additional_trusted: [],
    created_at: deps.clock.now().toISOString(),
  }
}

/**
 * A fresh key set for `type`: its keys are labelled `<type>-<purpose>` in generation 0 and
 * `<type>-<purpose>-<generation>` after (a KMS key store maps labels to keys). Every algorithm
 * is chosen before the first key is made, and when making a key fails, the keys made before it
 * are discarded (a KMS key costs money while it exists); the original error is rethrown.
 */
export async function newKeySet(
  deps: AuthoritiesDeps,
  type: CaType,
  generation: number,
): Promise<CaKeySetRecord> {
  const spec = CA_KEYS[type]
  const label = (purpose: 'tls' | 'ssh' | 'jwt') =>
    generation === 0 ? `${type}-${purpose}` : `${type}-${purpose}-${generation}`
  const pick = (purpose: 'tls' | 'ssh' | 'jwt') => {
    const preference = spec[purpose]
    return preference && pickAlgorithm(deps.keys, preference, label(purpose))
  }
  const algorithms = { tls: pick('tls'), ssh: pick('ssh'), jwt: pick('jwt') }
  const now = deps.clock.now()
  const made: string[] = []
  const generate = async (algorithm: SignatureAlgorithm, purpose: 'tls' | 'ssh' | 'jwt') => {
    const key = await deps.keys.generate(algorithm, label(purpose))
    made.push(key.ref)
    return key
  }
  const active: { -readonly [K in keyof CaKeySetRecord]: CaKeySetRecord[K] } = {}
  try {
    if (algorithms.tls) {
      const { ref, signer } = await generate(algorithms.tls, 'tls')
      const der = await createCaCertificate(signer, {
        clusterName: deps.clusterName,
        caName: type,
        serial: deps.random.bytes(16),
        now,
      })
      active.tls = { key_ref: ref, cert_pem: certificatePem(der) }
    }
    if (algorithms.ssh) {
      const { ref, signer } = await generate(algorithms.ssh, 'ssh')
      active.ssh = {
        key_ref: ref,
        public_key: authorizedKeyLine(signer.publicKey, `${deps.clusterName} ${type} CA`),
      }
    }
    if (algorithms.jwt) {
      const { ref, signer } = await generate(algorithms.jwt, 'jwt')
      const jwk = publicJwk(signer)
      const kid = await calculateJwkThumbprint(jwk)
      active.jwt = { key_ref: ref, jwk: { ...jwk, kid }, kid }
    }
  } catch (err) {
    await Promise.allSettled(made.map((ref) => deps.keys.delete(ref)))
    throw err
  }
  return active
}

function publicJwk(signer: Signer): JWK {
  const jwk = createPublicKey({ key: Buffer.from(signer.publicKey), format: 'der', type: 'spki' }).export({
    format: 'jwk',
  })
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, alg: 'ES256', use: 'sig' } as JWK
}

async function load(keys: KeyStore, record: CaRecord): Promise<LoadedCa> {
  const { active } = record
  const sets = [active, ...record.additional_trusted]
  const trustedTlsPems = sets.flatMap((s) => (s.tls ? [s.tls.cert_pem] : []))
  const ca: LoadedCa = {
    type: record.type,
    trustedTlsPems,
    trustedTlsCerts: trustedTlsPems.map((pem) => new X509Certificate(pem)),
    trustedSshKeys: sets.flatMap((s) => (s.ssh ? [s.ssh.public_key] : [])),
    trustedJwks: sets.flatMap((s) => (s.jwt ? [s.jwt.jwk] : [])),
    rotation: rotationOf(record),
    ...(active.tls && { tls: await loadTls(keys, active.tls) }),
    ...(active.ssh && {
      ssh: { signer: await keys.signer(active.ssh.key_ref), publicKey: active.ssh.public_key },
    }),
    ...(active.jwt && {
      jwt: { signer: await keys.signer(active.jwt.key_ref), jwk: active.jwt.jwk, kid: active.jwt.kid },
    }),
  }
  return Object.freeze(ca)
}

async function loadTls(
  keys: KeyStore,
  tls: NonNullable<CaKeySetRecord['tls']>,
): Promise<NonNullable<LoadedCa['tls']>> {
  const signer = await keys.signer(tls.key_ref)
  const cert = new X509Certificate(tls.cert_pem)
  return {
    signer,
    cert,
    certDer: cert.raw,
    certPem: tls.cert_pem,
    subject: subjectDer(cert),
    keyId: keyIdentifier(signer.publicKey),
  }
}

/** The CA certificate's subject exactly as encoded in it (the issuer of every leaf). */
function subjectDer(cert: X509Certificate): Buffer {
  const parsed = AsnConvert.parse(cert.raw, Certificate)
  return Buffer.from(AsnConvert.serialize(parsed.tbsCertificate.subject))
}

const keySetSchema = z.looseObject({
  tls: z.looseObject({ key_ref: z.string().min(1), cert_pem: z.string().min(1) }).optional(),
  ssh: z.looseObject({ key_ref: z.string().min(1), public_key: z.string().min(1) }).optional(),
  jwt: z
    .looseObject({ key_ref: z.string().min(1), jwk: z.looseObject({}), kid: z.string().min(1) })
    .optional(),
})
const rotationSchema = z.looseObject({
  phase: z.enum(ROTATION_PHASES as [RotationPhase, ...RotationPhase[]]),
  mode: z.enum(['manual', 'auto']),
  grace_period_ms: z.number().int().min(0),
  phase_since: z.string(),
  started_at: z.string().optional(),
  signer_since: z.string().optional(),
  last_rotated_at: z.string().optional(),
  generation: z.number().int().min(0),
})
const recordSchema = z.looseObject({
  type: z.enum(CA_TYPES as [CaType, ...CaType[]]),
  cluster_name: z.string(),
  active: keySetSchema,
  additional_trusted: z.array(keySetSchema),
  created_at: z.string(),
  rotation: rotationSchema.optional(),
})

/** A stored CA record, checked: the state store is input we do not fully control. */
function parseRecord(value: string): CaRecord {
  try {
    return recordSchema.parse(JSON.parse(value)) as CaRecord
  } catch (err) {
    throw corrupt(err)
  }
}

const corrupt = (cause: unknown) =>
  new StoreUnavailableError('a certificate authority record in the state store is corrupt', { cause })
