/**
 * Judges one `identity` output's artifact set the way its consumers would: the private key, the
 * TLS certificate and the SSH certificate belong together (same public key), the TLS certificate
 * verifies against the set's own user CA bundle (and, when given, against what the auth service
 * publishes), and `ssh-keygen -L` accepts the SSH certificate and names its signing CA.
 *
 * @example
 * ```ts
 * const facts = await checkIdentitySet(await readSet(destination), trustOf(await auth.published()))
 * assert.equal(facts.tlsIssuer, newCaFingerprint)
 * ```
 */
import assert from 'node:assert/strict'
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto'
import type { CaBundleResponse } from '../../lib/bot/auth-client.ts'
import { authorizedKeyLine } from '../../lib/ca/ssh/public-key.ts'
import type { Destination } from '../../lib/ports/destination.ts'
import { sshKeygenList } from './sshd.ts'

/** What a consumer trusts for user certificates: CA certificates (PEM) and SSH CA key lines. */
export interface UserTrust {
  readonly tls: readonly string[]
  readonly ssh: readonly string[]
}

export interface IdentitySetFacts {
  /** Serial of the TLS certificate (hex, as node prints it). */
  readonly tlsSerial: string
  /** SHA-256 fingerprint (node's `fingerprint256`) of the CA certificate that signed `tlscert`. */
  readonly tlsIssuer: string
  /** `SHA256:…` fingerprint of the SSH CA key that signed `key-cert.pub`. */
  readonly sshSigningCa: string
}

const REQUIRED = ['key', 'key.pub', 'key-cert.pub', 'tlscert', 'credbroker-user-ca.crt'] as const

/** The user CA trust `GET /v1/cas` publishes. */
export function trustOf(cas: CaBundleResponse): UserTrust {
  return { tls: cas.tls.user, ssh: cas.ssh.user }
}

/** A destination's current set as text. */
export async function readSet(destination: Destination): Promise<Map<string, string>> {
  const files = await destination.readAll()
  return new Map([...files].map(([name, bytes]) => [name, Buffer.from(bytes).toString('utf8')]))
}

/** OpenSSH's `SHA256:` fingerprint of an `authorized_keys` line (type, base64 blob, comment). */
export function sshFingerprint(line: string): string {
  const blob = Buffer.from(line.trim().split(/\s+/)[1] ?? '', 'base64')
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}

/** The certificates of a PEM bundle. */
export function splitPems(bundle: string): X509Certificate[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (pem) => new X509Certificate(pem),
  )
}

/** The CA among `cas` whose key signed `leaf`. */
function signerOf(leaf: X509Certificate, cas: readonly X509Certificate[]): X509Certificate | undefined {
  return cas.find((ca) => leaf.verify(ca.publicKey))
}

/**
 * Asserts that `files` is one complete, consistent identity set, valid at `now`, and (with
 * `trust`) accepted by a consumer trusting exactly `trust`.
 */
export async function checkIdentitySet(
  files: ReadonlyMap<string, string>,
  trust?: UserTrust,
  now: Date = new Date(),
): Promise<IdentitySetFacts> {
  for (const name of REQUIRED) assert.ok(files.get(name), `the set has no ${name}`)
  const get = (name: string) => files.get(name) as string
  const publicKey = createPublicKey(createPrivateKey(get('key')))
  const spki = (key: typeof publicKey) => key.export({ type: 'spki', format: 'der' })

  const leaf = new X509Certificate(get('tlscert'))
  assert.ok(spki(leaf.publicKey).equals(spki(publicKey)), 'tlscert certifies the key of the set')
  assert.ok(Date.parse(leaf.validFrom) <= now.getTime(), `tlscert is not valid yet (${leaf.validFrom})`)
  assert.ok(now.getTime() < Date.parse(leaf.validTo), `tlscert expired (${leaf.validTo})`)
  const issuer = signerOf(leaf, splitPems(get('credbroker-user-ca.crt')))
  assert.ok(issuer, 'tlscert verifies against the user CA bundle written with it')
  if (trust) {
    assert.ok(signerOf(leaf, trust.tls.flatMap(splitPems)), 'tlscert verifies against the published bundle')
  }

  const sshPublic = authorizedKeyLine(publicKey)
  assert.equal(sshFingerprint(get('key.pub')), sshFingerprint(sshPublic), 'key.pub is the key of the set')
  const listing = await sshKeygenList(get('key-cert.pub'))
  const certified = /Public key: \S+-CERT (SHA256:\S+)/.exec(listing)?.[1]
  assert.equal(certified, sshFingerprint(sshPublic), `key-cert.pub certifies the key of the set:\n${listing}`)
  const signingCa = /Signing CA: \S+ (SHA256:\S+)/.exec(listing)?.[1]
  assert.ok(signingCa, listing)
  if (trust) {
    assert.ok(
      trust.ssh.map(sshFingerprint).includes(signingCa),
      `key-cert.pub is signed by a published SSH CA key (${signingCa})`,
    )
  }
  return { tlsSerial: leaf.serialNumber, tlsIssuer: issuer.fingerprint256, sshSigningCa: signingCa }
}
