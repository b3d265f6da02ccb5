/**
 * The Signer conformance suite: the contract of `lib/ports/signer.ts`, run against every adapter.
 *
 * Not matched by the test glob (`*.test.ts`); each adapter's test file calls
 * {@link runSignerConformance} with a factory. Every signature is checked with node:crypto, never
 * with the adapter under test, and (SPIRE's `testSignData`) a certificate signed through the port
 * must verify with node:crypto's own X.509 code.
 */
import assert from 'node:assert/strict'
import {
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  verify,
  X509Certificate,
} from 'node:crypto'
import { afterEach, beforeEach, describe } from 'node:test'
import { readTlv } from '../../lib/ca/der-reader.ts'
import { ecdsaDerToRaw, ecdsaRawToDer } from '../../lib/ca/signature.ts'
import { signCertificate } from '../../lib/ca/x509/certificate.ts'
import { basicConstraints, KeyUsage, keyUsage } from '../../lib/ca/x509/extensions.ts'
import { encodeName, NameAttribute } from '../../lib/ca/x509/name.ts'
import type { SignatureAlgorithm, Signer } from '../../lib/ports/signer.ts'
import { skippableTest } from './skippable.ts'

export interface SignerHarness {
  signer: Signer
  cleanup(): Promise<void>
}

export interface SignerConformanceOptions {
  /** Tests to skip, each with the reason. Keys are test names as written below. */
  skip?: Record<string, string>
  /** How many signatures the concurrency test requests at once (default 32; KMS quotas may want fewer). */
  concurrency?: number
}

const ALGORITHMS: readonly SignatureAlgorithm[] = ['ecdsa-p256-sha256', 'ed25519', 'rsa-pkcs1-sha256']

/** Messages of the sizes that tend to break signers: empty, one byte, 64 KiB. */
const MESSAGES: ReadonlyArray<readonly [string, Uint8Array]> = [
  ['empty', new Uint8Array(0)],
  ['1 byte', Uint8Array.of(0x2a)],
  ['64 KiB', new Uint8Array(randomBytes(64 * 1024))],
]

/** The node:crypto key type (and EC curve) each algorithm requires. */
const KEY_TYPE: Record<SignatureAlgorithm, { type: string; curve?: string }> = {
  'ecdsa-p256-sha256': { type: 'ec', curve: 'prime256v1' },
  ed25519: { type: 'ed25519' },
  'rsa-pkcs1-sha256': { type: 'rsa' },
}

/** Verifies with node:crypto alone: ECDSA DER + SHA-256, Ed25519 (no digest), RSA PKCS #1 v1.5 + SHA-256. */
export function nodeVerify(
  algorithm: SignatureAlgorithm,
  publicKey: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  switch (algorithm) {
    case 'ecdsa-p256-sha256':
      return verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, signature)
    case 'ed25519':
      return verify(null, data, publicKey, signature)
    case 'rsa-pkcs1-sha256':
      return verify('sha256', data, publicKey, signature)
  }
}

const otherKeys = new Map<SignatureAlgorithm, KeyObject>()

/** A public key of the same algorithm that the signer does not hold (made once per algorithm). */
function otherPublicKey(algorithm: SignatureAlgorithm): KeyObject {
  let key = otherKeys.get(algorithm)
  if (!key) {
    key = (() => {
      switch (algorithm) {
        case 'ecdsa-p256-sha256':
          return generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey
        case 'ed25519':
          return generateKeyPairSync('ed25519').publicKey
        case 'rsa-pkcs1-sha256':
          return generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey
      }
    })()
    otherKeys.set(algorithm, key)
  }
  return key
}

function spkiKey(signer: Signer): KeyObject {
  return createPublicKey({ key: Buffer.from(signer.publicKey), format: 'der', type: 'spki' })
}

export function runSignerConformance(
  name: string,
  make: () => Promise<SignerHarness>,
  options: SignerConformanceOptions = {},
): void {
  describe(`Signer conformance: ${name}`, () => {
    let h: SignerHarness
    let signer: Signer
    const test = skippableTest(options.skip)

    beforeEach(async () => {
      h = await make()
      signer = h.signer
    })
    afterEach(async () => {
      await h.cleanup()
    })

    test('algorithm is a SignatureAlgorithm and publicKey is a stable DER SPKI of that type', async () => {
      assert.ok(ALGORITHMS.includes(signer.algorithm), `unknown algorithm ${signer.algorithm}`)
      const key = spkiKey(signer)
      const expected = KEY_TYPE[signer.algorithm]
      assert.equal(key.asymmetricKeyType, expected.type)
      if (expected.curve) assert.equal(key.asymmetricKeyDetails?.namedCurve, expected.curve)
      if (signer.algorithm === 'rsa-pkcs1-sha256')
        assert.ok(
          (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048,
          'RSA CA keys have at least 2048 bits',
        )
      // Canonical DER: node re-encodes the SPKI to exactly the bytes the signer reports.
      assert.deepEqual(
        new Uint8Array(key.export({ type: 'spki', format: 'der' })),
        new Uint8Array(signer.publicKey),
      )
      assert.deepEqual(new Uint8Array(signer.publicKey), new Uint8Array(h.signer.publicKey))
    })

    for (const [label, message] of MESSAGES) {
      test(`ok/a signature over a ${label} message verifies with node:crypto`, async () => {
        const signature = await signer.sign(message)
        assert.equal(nodeVerify(signer.algorithm, spkiKey(signer), message, signature), true)
      })
    }

    test('fail/a signature does not verify for a different message', async () => {
      const message = new TextEncoder().encode('credbroker signer conformance')
      const signature = await signer.sign(message)
      const altered = Uint8Array.from(message)
      altered[0] = (altered[0] as number) ^ 0x01
      assert.equal(nodeVerify(signer.algorithm, spkiKey(signer), altered, signature), false)
      assert.equal(nodeVerify(signer.algorithm, spkiKey(signer), message.subarray(1), signature), false)
    })

    test('fail/a signature does not verify with another key', async () => {
      const message = new TextEncoder().encode('credbroker signer conformance')
      const signature = await signer.sign(message)
      assert.equal(nodeVerify(signer.algorithm, otherPublicKey(signer.algorithm), message, signature), false)
    })

    test('signatures have the encoding the port documents', async () => {
      const signature = Buffer.from(await signer.sign(new TextEncoder().encode('encoding')))
      const key = spkiKey(signer)
      switch (signer.algorithm) {
        case 'ecdsa-p256-sha256': {
          // One DER SEQUENCE spanning the whole signature, canonical (re-encoding gives it back).
          const outer = readTlv(signature, 0)
          assert.equal(outer.tag, 0x30)
          assert.equal(outer.end, signature.length)
          const raw = ecdsaDerToRaw(signature, 32)
          assert.equal(raw.length, 64)
          assert.deepEqual(ecdsaRawToDer(raw), signature)
          return
        }
        case 'ed25519':
          assert.equal(signature.length, 64)
          return
        case 'rsa-pkcs1-sha256':
          assert.equal(signature.length, (key.asymmetricKeyDetails?.modulusLength ?? 0) / 8)
          return
      }
    })

    test('sign leaves its input untouched', async () => {
      const message = new Uint8Array(randomBytes(256))
      const copy = Uint8Array.from(message)
      await signer.sign(message)
      assert.deepEqual(message, copy)
    })

    test('ok/signing many messages concurrently: every signature matches its own message', async () => {
      const messages = Array.from({ length: options.concurrency ?? 32 }, (_, i) =>
        new TextEncoder().encode(`message ${i} ${'x'.repeat(i * 7)}`),
      )
      const signatures = await Promise.all(messages.map((m) => signer.sign(m)))
      const key = spkiKey(signer)
      messages.forEach((m, i) => {
        assert.equal(nodeVerify(signer.algorithm, key, m, signatures[i] as Uint8Array), true, `message ${i}`)
      })
      // Swapped pairs must not verify: each signature belongs to one message.
      const [m0, m1] = messages as [Uint8Array, Uint8Array]
      assert.equal(nodeVerify(signer.algorithm, key, m0, signatures[1] as Uint8Array), false)
      assert.equal(nodeVerify(signer.algorithm, key, m1, signatures[0] as Uint8Array), false)
    })

    test('ok/a certificate signed through the port verifies with node:crypto X509Certificate', async () => {
      // SPIRE's testSignData: a self-signed CA certificate, then a leaf for another key.
      const now = Date.UTC(2026, 0, 1)
      const caName = encodeName([[NameAttribute.commonName, 'signer conformance CA']])
      const caDer = await signCertificate(
        {
          serial: Uint8Array.of(0x01, 0x02),
          issuer: caName,
          subject: caName,
          notBefore: new Date(now),
          notAfter: new Date(now + 3_600_000),
          publicKey: signer.publicKey,
          extensions: [basicConstraints(true), keyUsage([KeyUsage.keyCertSign])],
        },
        signer,
      )
      const leafKey = generateKeyPairSync('ed25519').publicKey
      const leafDer = await signCertificate(
        {
          serial: Uint8Array.of(0x03),
          issuer: caName,
          subject: encodeName([[NameAttribute.commonName, 'leaf']]),
          notBefore: new Date(now),
          notAfter: new Date(now + 3_600_000),
          publicKey: leafKey.export({ type: 'spki', format: 'der' }),
          extensions: [basicConstraints(false)],
        },
        signer,
      )

      const ca = new X509Certificate(caDer)
      const leaf = new X509Certificate(leafDer)
      assert.equal(ca.verify(spkiKey(signer)), true)
      assert.equal(ca.checkIssued(ca), true)
      assert.equal(leaf.verify(ca.publicKey), true)
      assert.equal(leaf.checkIssued(ca), true)
      assert.equal(leaf.verify(otherPublicKey(signer.algorithm)), false)
    })
  })
}
