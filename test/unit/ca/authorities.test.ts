/**
 * The cluster's certificate authorities (`lib/ca/authorities.ts`): created on first start, loaded
 * unchanged afterwards, one record per type even when two processes start at once; and the user
 * certificate pair issued from them (`lib/ca/issue-user-certificates.ts`).
 */
import assert from 'node:assert/strict'
import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto'
import { describe, it } from 'node:test'
import { calculateJwkThumbprint } from 'jose'
import { MemoryKeyStore } from '../../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../../lib/adapters/memory/store.ts'
import {
  type AuthoritiesDeps,
  CA_TYPES,
  type CaRecord,
  caKey,
  loadOrCreateAuthorities,
} from '../../../lib/ca/authorities.ts'
import { caSubject } from '../../../lib/ca/ca-certificate.ts'
import { BACKDATE_MS, issueUserCertificates } from '../../../lib/ca/issue-user-certificates.ts'
import { parseSpki } from '../../../lib/ca/spki.ts'
import { keyIdentifier } from '../../../lib/ca/x509/extensions.ts'
import { ManualClock } from '../../../lib/clock.ts'
import type { Identity } from '../../../lib/identity/identity.ts'
import { decodeIdentity } from '../../../lib/identity/x509-encoding.ts'
import type { KeyStore } from '../../../lib/ports/key-store.ts'
import type { Store } from '../../../lib/ports/store.ts'
import { cryptoRandom, type Random, sequenceRandom } from '../../../lib/random.ts'
import { sshKeygenList } from '../../helpers/sshd.ts'

const CLUSTER = 'acme.example'
const HOUR_MS = 3_600_000

function deps(overrides: Partial<AuthoritiesDeps> = {}): AuthoritiesDeps {
  const clock = new ManualClock()
  return {
    store: new MemoryStore({ clock }),
    keys: new MemoryKeyStore(),
    clusterName: CLUSTER,
    clock,
    random: cryptoRandom,
    ...overrides,
  }
}

async function records(store: Store): Promise<Map<string, CaRecord>> {
  const page = await store.list('cert_authority/')
  return new Map(page.items.map((item) => [item.key, JSON.parse(item.value) as CaRecord]))
}

/** A KeyStore that counts the keys it generates. */
function countingKeys(): KeyStore & { generated: number } {
  const inner = new MemoryKeyStore()
  return {
    generated: 0,
    supports: (algorithm) => inner.supports(algorithm),
    async generate(algorithm, label) {
      this.generated++
      return inner.generate(algorithm, label)
    },
    signer: (ref) => inner.signer(ref),
    delete: (ref) => inner.delete(ref),
  }
}

/**
 * A Store whose first `get` of each CA key waits until a second caller has read the same key:
 * both starters see no record, so the race on `create` is certain rather than a matter of timing.
 */
function racingStore(inner: Store): Store {
  const waiting = new Map<string, () => void>()
  const reads = new Map<string, number>()
  return {
    get: async (key) => {
      const n = (reads.get(key) ?? 0) + 1
      reads.set(key, n)
      if (key.startsWith('cert_authority/') && n === 1)
        await new Promise<void>((resolve) => waiting.set(key, resolve))
      if (n === 2) waiting.get(key)?.()
      return inner.get(key)
    },
    create: (...args) => inner.create(...args),
    put: (...args) => inner.put(...args),
    compareAndSwap: (...args) => inner.compareAndSwap(...args),
    delete: (...args) => inner.delete(...args),
    list: (...args) => inner.list(...args),
    close: () => inner.close(),
  }
}

const spkiOfCert = (pem: string) =>
  new Uint8Array(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }))

describe('loadOrCreateAuthorities', () => {
  it('ok/first start creates one record per CA type with the keys that type needs', async () => {
    const d = deps()

    const cas = await loadOrCreateAuthorities(d)

    const stored = await records(d.store)
    assert.deepEqual(
      [...stored.keys()],
      ['cert_authority/db', 'cert_authority/host', 'cert_authority/jwt', 'cert_authority/user'],
    )
    const shape = (r: CaRecord) => Object.keys(r.active).sort()
    assert.deepEqual(shape(stored.get(caKey('user')) as CaRecord), ['ssh', 'tls'])
    assert.deepEqual(shape(stored.get(caKey('host')) as CaRecord), ['ssh', 'tls'])
    assert.deepEqual(shape(stored.get(caKey('db')) as CaRecord), ['tls'])
    assert.deepEqual(shape(stored.get(caKey('jwt')) as CaRecord), ['jwt'])
    for (const type of CA_TYPES) {
      const record = stored.get(caKey(type)) as CaRecord
      assert.equal(record.type, type)
      assert.equal(record.cluster_name, CLUSTER)
      assert.deepEqual(record.additional_trusted, [])
      assert.equal(record.created_at, d.clock.now().toISOString())
      assert.equal(cas[type].type, type)
      assert.ok(Object.isFrozen(cas[type]))
    }
    assert.ok(Object.isFrozen(cas))
    // Records hold references and public material only, never a private key.
    for (const item of (await d.store.list('cert_authority/')).items)
      assert.doesNotMatch(item.value, /PRIVATE KEY|"d":/)
  })

  it('ok/a second start loads the same CAs and writes nothing', async () => {
    const d = deps()
    const first = await loadOrCreateAuthorities(d)
    const revisions = [...(await d.store.list('cert_authority/')).items].map((i) => i.revision)

    const second = await loadOrCreateAuthorities(d)

    assert.deepEqual(
      [...(await d.store.list('cert_authority/')).items].map((i) => i.revision),
      revisions,
    )
    for (const type of CA_TYPES) {
      assert.equal(second[type].tls?.certPem, first[type].tls?.certPem)
      assert.deepEqual(second[type].tls?.signer.publicKey, first[type].tls?.signer.publicKey)
      assert.equal(second[type].ssh?.publicKey, first[type].ssh?.publicKey)
      assert.deepEqual(second[type].ssh?.signer.publicKey, first[type].ssh?.signer.publicKey)
      assert.equal(second[type].jwt?.kid, first[type].jwt?.kid)
      assert.deepEqual(second[type].jwt?.jwk, first[type].jwt?.jwk)
      assert.deepEqual(second[type].trustedTlsPems, first[type].trustedTlsPems)
      assert.deepEqual(second[type].trustedSshKeys, first[type].trustedSshKeys)
    }
  })

  it('ok/two concurrent starts on one store end with one record per type; the loser adopts the winner', async () => {
    const keys = countingKeys()
    const d = deps({ keys })
    const racing = { ...d, store: racingStore(d.store) }

    const [a, b] = await Promise.all([loadOrCreateAuthorities(racing), loadOrCreateAuthorities(racing)])

    assert.equal(keys.generated, 12, 'both starters generated their 6 keys: the race really happened')
    const stored = await records(d.store)
    assert.equal(stored.size, 4)
    for (const type of CA_TYPES) {
      const record = stored.get(caKey(type)) as CaRecord
      for (const loaded of [a[type], b[type]]) {
        assert.equal(loaded.tls?.certPem, record.active.tls?.cert_pem)
        assert.equal(loaded.ssh?.publicKey, record.active.ssh?.public_key)
        assert.equal(loaded.jwt?.kid, record.active.jwt?.kid)
        // The signer in hand is the winner's key, not the key the loser generated.
        if (loaded.tls)
          assert.deepEqual(new Uint8Array(loaded.tls.signer.publicKey), spkiOfCert(loaded.tls.certPem))
      }
      assert.deepEqual(a[type].ssh?.signer.publicKey, b[type].ssh?.signer.publicKey)
      assert.deepEqual(a[type].jwt?.signer.publicKey, b[type].jwt?.signer.publicKey)
    }
  })

  it('ok/the user CA certificate is a self-signed CA:TRUE that verifies itself', async () => {
    const { user } = await loadOrCreateAuthorities(deps())
    assert.ok(user.tls)
    const cert = new X509Certificate(user.tls.certPem)

    assert.equal(cert.ca, true)
    assert.equal(cert.subject, `O=${CLUSTER}\nCN=${CLUSTER} user CA`)
    assert.equal(cert.checkIssued(cert), true)
    assert.equal(cert.verify(cert.publicKey), true)
    assert.deepEqual(new Uint8Array(user.tls.signer.publicKey), spkiOfCert(user.tls.certPem))
    assert.deepEqual(user.tls.subject, caSubject(CLUSTER, 'user'))
    assert.deepEqual(user.tls.keyId, keyIdentifier(user.tls.signer.publicKey))
    assert.deepEqual(user.tls.certDer, cert.raw)
    assert.deepEqual(user.trustedTlsPems, [user.tls.certPem])
    assert.equal(user.trustedTlsCerts[0]?.fingerprint256, cert.fingerprint256)
  })

  it('ok/the SSH CA keys are Ed25519 authorized_keys lines naming the CA', async () => {
    const cas = await loadOrCreateAuthorities(deps())
    for (const type of ['user', 'host'] as const) {
      const ssh = cas[type].ssh
      assert.ok(ssh)
      assert.equal(ssh.signer.algorithm, 'ed25519')
      assert.match(
        ssh.publicKey,
        new RegExp(`^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/=]+ ${CLUSTER} ${type} CA$`),
      )
      assert.deepEqual(cas[type].trustedSshKeys, [ssh.publicKey])
    }
  })

  it('ok/the JWT key is a public ES256 JWK whose kid is its RFC 7638 thumbprint', async () => {
    const { jwt } = await loadOrCreateAuthorities(deps())
    assert.ok(jwt.jwt)
    const { jwk, kid, signer } = jwt.jwt

    assert.equal(kid, await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }))
    assert.equal(jwk.kid, kid)
    assert.deepEqual([jwk.kty, jwk.crv, jwk.alg, jwk.use], ['EC', 'P-256', 'ES256', 'sig'])
    assert.equal('d' in jwk, false)
    const fromJwk = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, format: 'jwk' })
    assert.deepEqual(
      new Uint8Array(fromJwk.export({ type: 'spki', format: 'der' })),
      new Uint8Array(signer.publicKey),
    )
    assert.deepEqual(jwt.trustedJwks, [jwk])
  })

  it('fail/a CA record that is not JSON → ERR_STORE_UNAVAILABLE', async () => {
    const d = deps()
    await d.store.put(caKey('user'), '{"type":"user",')
    await assert.rejects(loadOrCreateAuthorities(d), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'ERR_STORE_UNAVAILABLE')
      return true
    })
  })

  const wrongShape: ReadonlyArray<readonly [string, string]> = [
    ['fail/a CA record that is JSON null', 'null'],
    ['fail/a CA record without its fields', '{}'],
    [
      'fail/a CA record whose certificate is not a PEM',
      JSON.stringify({
        type: 'user',
        cluster_name: CLUSTER,
        active: { tls: { key_ref: 'memory:x', cert_pem: 'garbage' } },
        additional_trusted: [],
        created_at: '2026-01-01T00:00:00.000Z',
      }),
    ],
  ]
  for (const [title, value] of wrongShape) {
    it(`${title} → ERR_STORE_UNAVAILABLE`, async () => {
      const d = deps()
      await d.store.put(caKey('user'), value)
      await assert.rejects(loadOrCreateAuthorities(d), (err: unknown) => {
        assert.equal((err as { code?: string }).code, 'ERR_STORE_UNAVAILABLE', String(err))
        return true
      })
    })
  }
})

describe('issueUserCertificates', () => {
  const identity: Identity = {
    user: 'bot-alice',
    roles: ['bot-alice'],
    logins: ['alice', 'ops'],
    botName: 'alice',
    botInstanceId: '3f2a1c9e-0b7d-4e55-9a61-2d8e4c7b1f00',
    generation: 2,
    renewable: true,
    disallowReissue: false,
  }

  /** Random bytes from a fixed pattern: to steer the serial's first byte. */
  const patterned = (first: number): Random => ({
    bytes: (n) => Uint8Array.from({ length: n }, (_, i) => (i === 0 ? first : (i * 17) & 0xff)),
    uuid: () => cryptoRandom.uuid(),
  })

  const randoms: ReadonlyArray<readonly [string, Random]> = [
    ['sequence random', sequenceRandom(9)],
    ['a first serial byte with the high bit set (cleared: serials are positive)', patterned(0xff)],
    ['a zero first serial byte (a shorter DER INTEGER)', patterned(0x00)],
  ]
  for (const [label, random] of randoms) {
    it(`ok/X.509 and SSH certificates from the user CA (${label})`, async () => {
      const d = deps()
      const { user } = await loadOrCreateAuthorities(d)
      const subject = generateKeyPairSync('ed25519').publicKey
      const publicKey = parseSpki(subject.export({ type: 'spki', format: 'der' }))
      assert.ok(publicKey && user.tls)
      const now = d.clock.now()
      const notAfter = new Date(now.getTime() + HOUR_MS)

      const issued = await issueUserCertificates(user, { identity, publicKey, now, notAfter }, random)

      // X.509: issued by the CA, verified by node, carrying the identity and the caller's key.
      const leaf = new X509Certificate(issued.tlsCertDer)
      assert.equal(leaf.checkIssued(user.tls.cert), true)
      assert.equal(leaf.verify(user.tls.cert.publicKey), true)
      assert.equal(leaf.ca, false)
      assert.deepEqual(decodeIdentity(issued.tlsCertDer), identity)
      assert.deepEqual(
        new Uint8Array(leaf.publicKey.export({ type: 'spki', format: 'der' })),
        new Uint8Array(publicKey.spki),
      )
      assert.deepEqual(new X509Certificate(issued.tlsCertPem).raw, issued.tlsCertDer)

      // One serial: 16 bytes (hex), positive; the SSH serial is its first 8 bytes.
      assert.match(issued.serial, /^[0-7][0-9a-f]{31}$/)
      assert.equal(BigInt(`0x${leaf.serialNumber}`), BigInt(`0x${issued.serial}`))
      const sshSerial = BigInt(`0x${issued.serial}`) >> 64n
      const listing = await sshKeygenList(issued.sshCert)
      assert.ok(listing.includes(`Serial: ${sshSerial}\n`), listing)

      // Validity: notBefore backdated by BACKDATE_MS in both certificates.
      const notBefore = new Date(now.getTime() - BACKDATE_MS)
      assert.deepEqual(issued.notBefore, notBefore)
      assert.deepEqual(issued.notAfter, notAfter)
      assert.equal(Date.parse(leaf.validFrom), notBefore.getTime())
      assert.equal(Date.parse(leaf.validTo), notAfter.getTime())
      const iso = (t: Date) => t.toISOString().slice(0, 19)
      assert.ok(listing.includes(`Valid: from ${iso(notBefore)} to ${iso(notAfter)}`), listing)

      // SSH: a user certificate for the same key, key id = user, principals = logins.
      assert.match(listing, /Type: ssh-ed25519-cert-v01@openssh\.com user certificate/)
      assert.ok(listing.includes(`Key ID: "${identity.user}"`), listing)
      assert.match(listing, /Principals: \n\s+alice\n\s+ops\n/)
      assert.match(listing, /\n\s+renewable@credbroker UNKNOWN FLAG OPTION\n/)
    })
  }

  for (const type of ['db', 'jwt'] as const) {
    it(`fail/the ${type} CA cannot issue user certificates (programmer error)`, async () => {
      const cas = await loadOrCreateAuthorities(deps())
      const publicKey = parseSpki(
        generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }),
      )
      assert.ok(publicKey)
      const now = new Date()
      await assert.rejects(
        issueUserCertificates(
          cas[type],
          { identity, publicKey, now, notAfter: new Date(now.getTime() + HOUR_MS) },
          cryptoRandom,
        ),
        TypeError,
      )
    })
  }
})
