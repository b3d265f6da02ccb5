/**
 * How `lib/ca/authorities.ts` picks each CA key's algorithm from its preference list with
 * `KeyStore.supports`: a store without Ed25519 (KMS) gets ECDSA P-256 SSH CAs whose certificates
 * OpenSSH accepts; a store that can hold none of a key's algorithms is a configuration error
 * before any key is made; and a failure half-way discards the keys already made.
 */
import assert from 'node:assert/strict'
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { FileKeyStore } from '../../../lib/adapters/local/key-store.ts'
import { MemoryKeyStore } from '../../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../../lib/adapters/memory/store.ts'
import { type AuthoritiesDeps, loadOrCreateAuthorities } from '../../../lib/ca/authorities.ts'
import { issueUserCertificates } from '../../../lib/ca/issue-user-certificates.ts'
import { parseSpki } from '../../../lib/ca/spki.ts'
import { authorizedKeyLine } from '../../../lib/ca/ssh/public-key.ts'
import { ManualClock } from '../../../lib/clock.ts'
import { InvalidConfigError } from '../../../lib/errors.ts'
import type { Identity } from '../../../lib/identity/identity.ts'
import type { KeyStore } from '../../../lib/ports/key-store.ts'
import type { SignatureAlgorithm } from '../../../lib/ports/signer.ts'
import { cryptoRandom } from '../../../lib/random.ts'
import { sshKeygenList } from '../../helpers/sshd.ts'

const CLUSTER = 'acme.example'

/**
 * A memory key store limited to `algorithms` (as KMS is), recording what it generates and deletes.
 * `failOn` makes `generate` fail for one label.
 */
function limitedKeys(algorithms: readonly SignatureAlgorithm[], failOn?: string) {
  const inner = new MemoryKeyStore()
  const generated: { label: string; algorithm: SignatureAlgorithm; ref: string }[] = []
  const deleted: string[] = []
  const keys: KeyStore = {
    supports: (algorithm) => algorithms.includes(algorithm),
    async generate(algorithm, label) {
      if (!algorithms.includes(algorithm)) throw new TypeError(`unsupported ${algorithm}`)
      if (label === failOn) throw new Error(`generate failed for ${label}`)
      const key = await inner.generate(algorithm, label)
      generated.push({ label, algorithm, ref: key.ref })
      return key
    },
    signer: (ref) => inner.signer(ref),
    async delete(ref) {
      deleted.push(ref)
      await inner.delete(ref)
    },
  }
  return { keys, generated, deleted }
}

function deps(keys: KeyStore): AuthoritiesDeps {
  const clock = new ManualClock()
  return { store: new MemoryStore({ clock }), keys, clusterName: CLUSTER, clock, random: cryptoRandom }
}

const identity: Identity = {
  user: 'bot-alice',
  roles: ['bot-alice'],
  logins: ['alice'],
  botName: 'alice',
  botInstanceId: '3f2a1c9e-0b7d-4e55-9a61-2d8e4c7b1f00',
  generation: 1,
  renewable: true,
  disallowReissue: false,
}

describe('loadOrCreateAuthorities: key algorithms', () => {
  it('ok/the memory and file key stores support every algorithm', () => {
    const dir = mkdtempSync(join(tmpdir(), 'credbroker-keys-'))
    try {
      for (const store of [new MemoryKeyStore(), new FileKeyStore({ dir: join(dir, 'keys') })]) {
        for (const algorithm of ['ecdsa-p256-sha256', 'ed25519', 'rsa-pkcs1-sha256'] as const) {
          assert.equal(store.supports(algorithm), true, `${store.constructor.name} ${algorithm}`)
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('ok/a store holding every algorithm gets Ed25519 SSH CA keys and P-256 X.509 and JWT keys', async () => {
    const { keys, generated } = limitedKeys(['ecdsa-p256-sha256', 'ed25519', 'rsa-pkcs1-sha256'])

    await loadOrCreateAuthorities(deps(keys))

    const byLabel = Object.fromEntries(generated.map((g) => [g.label, g.algorithm]))
    assert.deepEqual(byLabel, {
      'user-tls': 'ecdsa-p256-sha256',
      'user-ssh': 'ed25519',
      'host-tls': 'ecdsa-p256-sha256',
      'host-ssh': 'ed25519',
      'db-tls': 'ecdsa-p256-sha256',
      'jwt-jwt': 'ecdsa-p256-sha256',
    })
  })

  it('ok/a store without Ed25519 gets ecdsa-sha2-nistp256 SSH CAs whose user certificates ssh-keygen accepts', async () => {
    const { keys, generated } = limitedKeys(['ecdsa-p256-sha256'])
    const d = deps(keys)

    const cas = await loadOrCreateAuthorities(d)

    assert.ok(generated.every((g) => g.algorithm === 'ecdsa-p256-sha256'))
    for (const type of ['user', 'host'] as const) {
      const ssh = cas[type].ssh
      assert.ok(ssh)
      assert.equal(ssh.signer.algorithm, 'ecdsa-p256-sha256')
      assert.equal(ssh.publicKey, authorizedKeyLine(ssh.signer.publicKey, `${CLUSTER} ${type} CA`))
      assert.match(
        ssh.publicKey,
        new RegExp(`^ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY\\S+ ${CLUSTER} ${type} CA$`),
      )
    }

    const { user } = cas
    assert.ok(user.tls && user.ssh)
    const subject = generateKeyPairSync('ed25519').publicKey
    const publicKey = parseSpki(subject.export({ type: 'spki', format: 'der' }))
    assert.ok(publicKey)
    const now = d.clock.now()
    const issued = await issueUserCertificates(
      user,
      { identity, publicKey, now, notAfter: new Date(now.getTime() + 3_600_000) },
      cryptoRandom,
    )

    // ssh-keygen -L checks the CA signature: it fails on a certificate that does not verify.
    const listing = await sshKeygenList(issued.sshCert)
    assert.match(listing, /Type: ssh-ed25519-cert-v01@openssh\.com user certificate/)
    assert.match(listing, /Signing CA: ECDSA SHA256:\S+ \(using ecdsa-sha2-nistp256\)/)
    assert.ok(listing.includes(`Key ID: "${identity.user}"`), listing)
    // The CA named in the certificate is the one in the record.
    const caFingerprint = /Signing CA: ECDSA (SHA256:\S+)/.exec(listing)?.[1]
    const caBlob = Buffer.from(user.ssh.publicKey.split(' ')[1] as string, 'base64')
    assert.equal(caFingerprint, sshFingerprint(caBlob))
    // The X.509 half still comes from the P-256 TLS CA.
    const leaf = new X509Certificate(issued.tlsCertDer)
    assert.equal(leaf.verify(user.tls.cert.publicKey), true)
  })

  it('fail/a store holding none of a key’s algorithms is ERR_INVALID_CONFIG naming the key; no key is made', async () => {
    const { keys, generated } = limitedKeys(['rsa-pkcs1-sha256'])

    await assert.rejects(loadOrCreateAuthorities(deps(keys)), (err: unknown) => {
      assert.ok(err instanceof InvalidConfigError, String(err))
      assert.equal(err.field, 'keyStore')
      assert.match(
        err.message,
        /supports none of .*ecdsa-p256-sha256, which the (user|host|db)-tls CA key needs/,
      )
      return true
    })
    assert.deepEqual(generated, [])
  })

  it('fail/a key that cannot be made discards the keys made before it, and the error is the original', async () => {
    const { keys, generated, deleted } = limitedKeys(['ecdsa-p256-sha256', 'ed25519'], 'user-ssh')
    const d = deps(keys)

    await assert.rejects(loadOrCreateAuthorities(d), /generate failed for user-ssh/)

    const userTls = generated.find((g) => g.label === 'user-tls')
    assert.ok(userTls, 'the user CA made its TLS key before failing')
    assert.ok(deleted.includes(userTls.ref))
    await assert.rejects(keys.signer(userTls.ref), { code: 'ERR_NOT_FOUND' })
    assert.equal(await d.store.get('cert_authority/user'), undefined)
  })
})

/** OpenSSH's fingerprint of a key blob: `SHA256:` and unpadded base64 of its SHA-256. */
function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}
