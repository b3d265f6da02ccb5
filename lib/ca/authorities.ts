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

export interface CaRecord {
  readonly type: CaType
  readonly cluster_name: string
  readonly active: CaKeySetRecord
  /** Keys still trusted but no longer signing (CA rotation's grace period). */
  readonly additional_trusted: readonly CaKeySetRecord[]
  readonly created_at: string
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

/** Loads every CA, creating the missing ones. */
export async function loadOrCreateAuthorities(deps: AuthoritiesDeps): Promise<CertAuthorities> {
  const entries = await Promise.all(
    CA_TYPES.map(async (type) => [type, await loadOrCreate(deps, type)] as const),
  )
  return Object.freeze(Object.fromEntries(entries) as Record<CaType, LoadedCa>)
}

async function loadOrCreate(deps: AuthoritiesDeps, type: CaType): Promise<LoadedCa> {
  const existing = await deps.store.get(caKey(type))
  if (existing) return loadChecked(deps.keys, parseRecord(existing.value))
  const record = await newRecord(deps, type)
  try {
    await deps.store.create(caKey(type), JSON.stringify(record))
    return load(deps.keys, record)
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err
    // Another process created this CA first: use its keys and drop ours.
    await Promise.all(keyRefs(record).map((ref) => deps.keys.delete(ref)))
    const winner = await deps.store.get(caKey(type))
    if (!winner)
      throw new StoreUnavailableError(`the ${type} CA record vanished while starting`, { cause: err })
    return loadChecked(deps.keys, parseRecord(winner.value))
  }
}

function keyRefs(record: CaRecord): string[] {
  const { tls, ssh, jwt } = record.active
  return [tls?.key_ref, ssh?.key_ref, jwt?.key_ref].filter((ref): ref is string => ref !== undefined)
}

/** Loads a stored record; unreadable certificates are a store problem, not a bug. */
async function loadChecked(keys: KeyStore, record: CaRecord): Promise<LoadedCa> {
  try {
    return await load(keys, record)
  } catch (err) {
    if (err instanceof StoreUnavailableError || err instanceof NotFoundError) throw err
    throw corrupt(err)
  }
}

/**
 * A new record with fresh keys. Every algorithm is chosen before the first key is made, and when
 * making a key fails, the keys made before it are discarded (a KMS key costs money while it
 * exists); the original error is rethrown.
 */
async function newRecord(deps: AuthoritiesDeps, type: CaType): Promise<CaRecord> {
  const spec = CA_KEYS[type]
  const label = (purpose: 'tls' | 'ssh' | 'jwt') => `${type}-${purpose}`
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
  return {
    type,
    cluster_name: deps.clusterName,
    active,
    additional_trusted: [],
    created_at: now.toISOString(),
  }
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
const recordSchema = z.looseObject({
  type: z.enum(CA_TYPES as [CaType, ...CaType[]]),
  cluster_name: z.string(),
  active: keySetSchema,
  additional_trusted: z.array(keySetSchema),
  created_at: z.string(),
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
