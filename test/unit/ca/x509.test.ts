import 'reflect-metadata' // @peculiar/x509 needs it loaded before anything else
/**
 * X.509 certificates from `lib/ca/x509/*` and `lib/ca/ca-certificate.ts`, and the identity they
 * carry (`lib/identity/x509-encoding.ts`), read back by two independent parsers: @peculiar/x509
 * and node:crypto's X509Certificate. The TBSCertificate of a CA and of a leaf are pinned by
 * golden files (regenerate on purpose with UPDATE_GOLDEN=1).
 */
import assert from 'node:assert/strict'
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  X509Certificate as NodeX509,
} from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { AsnConvert } from '@peculiar/asn1-schema'
import { Certificate, Version } from '@peculiar/asn1-x509'
import * as x509 from '@peculiar/x509'
import { LocalSigner } from '../../../lib/adapters/local/signer.ts'
import { CA_CERT_VALIDITY_MS, caSubject, createCaCertificate } from '../../../lib/ca/ca-certificate.ts'
import { ia5String, oid } from '../../../lib/ca/der.ts'
import { children, readTlv } from '../../../lib/ca/der-reader.ts'
import {
  type CertificateTemplate,
  certificatePem,
  encodeTbsCertificate,
  signCertificate,
} from '../../../lib/ca/x509/certificate.ts'
import {
  authorityKeyIdentifier,
  basicConstraints,
  type Extension,
  extendedKeyUsage,
  KeyUsage,
  keyIdentifier,
  keyUsage,
  textExtension,
} from '../../../lib/ca/x509/extensions.ts'
import { ManualClock } from '../../../lib/clock.ts'
import { UnauthenticatedError } from '../../../lib/errors.ts'
import { IDENTITY_EXTENSION_OID, type Identity } from '../../../lib/identity/identity.ts'
import { decodeIdentity, identityExtension, identitySubject } from '../../../lib/identity/x509-encoding.ts'
import type { SignatureAlgorithm } from '../../../lib/ports/signer.ts'
import { sequenceRandom } from '../../../lib/random.ts'

const FIXTURES = join(import.meta.dirname, '../../fixtures')
const HOUR_MS = 3_600_000
const NOW = new Date('2026-01-01T12:00:00Z')

const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  clientAuth: '1.3.6.1.5.5.7.3.2',
}

const fullIdentity: Identity = {
  user: 'bot-alice',
  roles: ['bot-alice', 'db-readers'],
  logins: ['alice', 'żółw'],
  botName: 'alice',
  botInstanceId: '3f2a1c9e-0b7d-4e55-9a61-2d8e4c7b1f00',
  generation: 7,
  renewable: true,
  disallowReissue: true,
  impersonator: 'bot-ci',
  routes: {
    database: { service: 'orders', protocol: 'postgres', username: 'reader', database: 'orders_db' },
    kubernetesCluster: 'prod-eu',
    app: 'grafana',
  },
  kubernetesUsers: ['alice'],
  kubernetesGroups: ['system:masters', 'viewers'],
  databaseNames: ['orders_db'],
  databaseUsers: ['reader'],
  awsRoleArns: ['arn:aws:iam::123456789012:role/reader'],
}

const minimalIdentity: Identity = {
  user: 'admin',
  roles: [],
  logins: [],
  generation: 0,
  renewable: false,
  disallowReissue: false,
}

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** The DER bytes of one TLV. */
const tlvBytes = (der: Buffer, t: { offset: number; end: number }) => der.subarray(t.offset, t.end)

/** The TBSCertificate of a DER certificate, exactly as signed. */
function tbsOf(certDer: Buffer): Buffer {
  const cert = readTlv(certDer, 0)
  return tlvBytes(certDer, readTlv(certDer, cert.start, cert.end))
}

interface TestCa {
  readonly signer: LocalSigner
  readonly der: Buffer
  readonly subject: Buffer
}

async function makeCa(algorithm: SignatureAlgorithm = 'ecdsa-p256-sha256', now = NOW): Promise<TestCa> {
  const signer = LocalSigner.generate(algorithm)
  const der = await createCaCertificate(signer, {
    clusterName: 'acme',
    caName: 'user',
    serial: Uint8Array.of(0x01, 0x02, 0x03),
    now,
  })
  return { signer, der, subject: caSubject('acme', 'user') }
}

const leafKey = () => LocalSigner.generate('ed25519').publicKey

function leafTemplate(ca: TestCa, overrides: Partial<CertificateTemplate> = {}): CertificateTemplate {
  return {
    serial: Uint8Array.from(Buffer.from('7a0b0c0d0e0f10111213141516171819', 'hex')),
    issuer: ca.subject,
    subject: identitySubject(fullIdentity),
    notBefore: new Date(NOW.getTime() - 60_000),
    notAfter: new Date(NOW.getTime() + HOUR_MS),
    publicKey: leafKey(),
    extensions: [
      basicConstraints(false),
      keyUsage([KeyUsage.digitalSignature]),
      extendedKeyUsage('clientAuth'),
      authorityKeyIdentifier(keyIdentifier(ca.signer.publicKey)),
      identityExtension(fullIdentity),
    ],
    ...overrides,
  }
}

/** The extension of class `type`, which must be present. */
function ext<T extends x509.Extension>(cert: x509.X509Certificate, type: new (raw: ArrayBuffer) => T): T {
  const found = cert.getExtension(type)
  assert.ok(found, `${type.name} is present`)
  return found
}

describe('createCaCertificate', () => {
  it('ok/version 3, serial, names, validity and CA extensions', async () => {
    const ca = await makeCa()
    const cert = new x509.X509Certificate(ca.der)
    const asn = AsnConvert.parse(ca.der, Certificate)

    assert.equal(asn.tbsCertificate.version, Version.v3)
    assert.equal(cert.serialNumber, '010203')
    assert.equal(cert.subject, 'O=acme, CN=acme user CA')
    assert.equal(cert.issuer, cert.subject)
    assert.deepEqual(cert.notBefore, new Date(NOW.getTime() - 60_000))
    assert.deepEqual(cert.notAfter, new Date(NOW.getTime() + CA_CERT_VALIDITY_MS))

    const bc = ext(cert, x509.BasicConstraintsExtension)
    assert.deepEqual([bc.critical, bc.ca, bc.pathLength], [true, true, 0])
    const ku = ext(cert, x509.KeyUsagesExtension)
    assert.equal(ku.critical, true)
    assert.equal(
      ku.usages,
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
    )
    const ski = ext(cert, x509.SubjectKeyIdentifierExtension)
    assert.equal(ski.critical, false)
    assert.equal(ski.keyId, hexOf(keyIdentifier(ca.signer.publicKey)))
  })

  it('ok/node:crypto sees a self-signed CA that verifies itself', async () => {
    const ca = await makeCa()
    const cert = new NodeX509(ca.der)
    assert.equal(cert.ca, true)
    assert.equal(cert.serialNumber, '010203')
    assert.equal(cert.subject, 'O=acme\nCN=acme user CA')
    assert.equal(cert.checkIssued(cert), true)
    assert.equal(cert.verify(cert.publicKey), true)
    assert.deepEqual(
      new Uint8Array(cert.publicKey.export({ type: 'spki', format: 'der' })),
      new Uint8Array(ca.signer.publicKey),
    )
  })

  /** The subjectPublicKey BIT STRING contents (RFC 5280 §4.1.2.7), derived without our DER code. */
  const publicKeyBits: Record<SignatureAlgorithm, (key: KeyObject) => Buffer> = {
    'ecdsa-p256-sha256': (key) => {
      const jwk = key.export({ format: 'jwk' })
      const coordinate = (v: string | undefined) => Buffer.from(v ?? '', 'base64url')
      return Buffer.concat([Buffer.from([4]), coordinate(jwk.x), coordinate(jwk.y)])
    },
    ed25519: (key) => Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url'),
    'rsa-pkcs1-sha256': (key) => key.export({ type: 'pkcs1', format: 'der' }),
  }
  for (const algorithm of ['ecdsa-p256-sha256', 'ed25519', 'rsa-pkcs1-sha256'] as const) {
    it(`ok/${algorithm}: the key identifier is the SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1)`, () => {
      const signer = LocalSigner.generate(algorithm)
      const key = createPublicKey({ key: Buffer.from(signer.publicKey), format: 'der', type: 'spki' })
      const expected = createHash('sha1').update(publicKeyBits[algorithm](key)).digest('hex')
      assert.equal(hexOf(keyIdentifier(signer.publicKey)), expected)
    })
  }

  it('fail/two P-256 keys sharing the first bytes of x get distinct key identifiers', () => {
    const spki = Buffer.from(LocalSigner.generate('ecdsa-p256-sha256').publicKey)
    const other = Buffer.from(spki)
    other[40] = (other[40] as number) ^ 0xff // inside x, past its first three bytes
    assert.notEqual(hexOf(keyIdentifier(spki)), hexOf(keyIdentifier(other)))
  })

  it('fail/two RSA keys get distinct key identifiers', () => {
    const [a, b] = [0, 1].map(() =>
      generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }),
    )
    assert.notEqual(hexOf(keyIdentifier(a as Buffer)), hexOf(keyIdentifier(b as Buffer)))
  })

  for (const algorithm of ['ecdsa-p256-sha256', 'ed25519', 'rsa-pkcs1-sha256'] as const) {
    it(`ok/${algorithm}: the outer signatureAlgorithm equals the TBS signature field and node verifies`, async () => {
      const ca = await makeCa(algorithm)
      const cert = readTlv(ca.der, 0)
      const [tbs, outerAlg] = children(ca.der, cert)
      const tbsFields = children(ca.der, tbs as NonNullable<typeof tbs>)
      const expected = {
        'ecdsa-p256-sha256': '300a06082a8648ce3d040302',
        ed25519: '300506032b6570',
        'rsa-pkcs1-sha256': '300d06092a864886f70d01010b0500',
      }[algorithm]
      assert.equal(hexOf(tlvBytes(ca.der, outerAlg as NonNullable<typeof outerAlg>)), expected)
      assert.equal(hexOf(tlvBytes(ca.der, tbsFields[2] as NonNullable<(typeof tbsFields)[2]>)), expected)
      assert.equal(new NodeX509(ca.der).verify(createPublicKey(ca.signer.exportPkcs8Pem())), true)
    })
  }
})

describe('leaf certificates', () => {
  it('ok/names, validity, CA:FALSE, key usage, clientAuth, AKI = CA SKI, non-critical identity', async () => {
    const ca = await makeCa()
    const template = leafTemplate(ca)
    const der = await signCertificate(template, ca.signer)
    const cert = new x509.X509Certificate(der)
    const caCert = new x509.X509Certificate(ca.der)

    assert.equal(AsnConvert.parse(der, Certificate).tbsCertificate.version, Version.v3)
    assert.equal(cert.serialNumber, '7a0b0c0d0e0f10111213141516171819')
    assert.equal(cert.subject, 'CN=bot-alice, O=bot-alice, O=db-readers')
    assert.equal(cert.issuer, 'O=acme, CN=acme user CA')
    assert.deepEqual(cert.notBefore, template.notBefore)
    assert.deepEqual(cert.notAfter, template.notAfter)

    const bc = ext(cert, x509.BasicConstraintsExtension)
    assert.deepEqual([bc.critical, bc.ca, bc.pathLength], [true, false, undefined])
    const ku = ext(cert, x509.KeyUsagesExtension)
    assert.deepEqual([ku.critical, ku.usages], [true, x509.KeyUsageFlags.digitalSignature])
    const eku = ext(cert, x509.ExtendedKeyUsageExtension)
    assert.deepEqual([eku.critical, [...eku.usages]], [false, [OID.clientAuth]])
    const aki = ext(cert, x509.AuthorityKeyIdentifierExtension)
    const ski = ext(caCert, x509.SubjectKeyIdentifierExtension)
    assert.equal(aki.critical, false)
    assert.equal(aki.keyId, ski.keyId)
    const identity = cert.getExtension(IDENTITY_EXTENSION_OID)
    assert.equal(identity?.critical, false)
    assert.equal(await cert.verify({ publicKey: caCert.publicKey, signatureOnly: true }), true)
  })

  it('ok/node:crypto: CA:FALSE, issued by and verified with the CA', async () => {
    const ca = await makeCa()
    const der = await signCertificate(leafTemplate(ca), ca.signer)
    const leaf = new NodeX509(der)
    const caCert = new NodeX509(ca.der)
    assert.equal(leaf.ca, false)
    assert.equal(leaf.serialNumber, '7A0B0C0D0E0F10111213141516171819')
    assert.equal(leaf.subject, 'CN=bot-alice\nO=bot-alice\nO=db-readers')
    assert.equal(leaf.checkIssued(caCert), true)
    assert.equal(leaf.verify(caCert.publicKey), true)
    assert.equal(leaf.verify(leaf.publicKey), false)
  })

  it('ok/keyUsage bits are a named bit string without trailing zeros (X.690 §11.2.2)', () => {
    assert.equal(hexOf(keyUsage([KeyUsage.digitalSignature]).value), '03020780')
    assert.equal(
      hexOf(keyUsage([KeyUsage.digitalSignature, KeyUsage.keyCertSign, KeyUsage.cRLSign]).value),
      '03020186',
    )
    assert.equal(hexOf(keyUsage([KeyUsage.digitalSignature, KeyUsage.keyEncipherment]).value), '030205a0')
  })

  it('ok/a serial with a leading zero byte and one with the high bit set', async () => {
    const ca = await makeCa('ed25519')
    for (const [serial, expected] of [
      ['0012', '12'],
      ['00ab', '00ab'],
      ['ff01', '00ff01'],
    ] as const) {
      const der = await signCertificate(leafTemplate(ca, { serial: Buffer.from(serial, 'hex') }), ca.signer)
      const asnSerial = Buffer.from(AsnConvert.parse(der, Certificate).tbsCertificate.serialNumber)
      assert.equal(asnSerial.toString('hex'), expected)
    }
  })

  const invalid: ReadonlyArray<readonly [string, Partial<CertificateTemplate>]> = [
    ['fail/an empty serial', { serial: new Uint8Array(0) }],
    ['fail/a 21-byte serial', { serial: new Uint8Array(21).fill(1) }],
    ['fail/notAfter equal to notBefore', { notBefore: NOW, notAfter: NOW }],
    ['fail/notAfter before notBefore', { notBefore: NOW, notAfter: new Date(NOW.getTime() - 1) }],
  ]
  for (const [title, overrides] of invalid) {
    it(`${title} is a programmer error`, async () => {
      const ca = await makeCa('ed25519')
      assert.throws(() => encodeTbsCertificate(leafTemplate(ca, overrides), 'ed25519'), TypeError)
    })
  }

  it('fail/a certificate without extensions omits the [3] field', async () => {
    const ca = await makeCa('ed25519')
    const tbs = encodeTbsCertificate(leafTemplate(ca, { extensions: [] }), 'ed25519')
    const tags = children(tbs, readTlv(tbs, 0)).map((t) => t.tag)
    assert.equal(tags.includes(0xa3), false)
  })

  it('ok/certificatePem wraps at 64 characters and round-trips', async () => {
    const ca = await makeCa()
    const pem = certificatePem(ca.der)
    const lines = pem.trimEnd().split('\n')
    assert.equal(lines[0], '-----BEGIN CERTIFICATE-----')
    assert.equal(lines.at(-1), '-----END CERTIFICATE-----')
    for (const line of lines.slice(1, -2)) assert.equal(line.length, 64)
    assert.ok(pem.endsWith('\n'))
    assert.deepEqual(new NodeX509(pem).raw, ca.der)
  })
})

describe('identity in X.509', () => {
  for (const [label, identity] of [
    ['full identity (every optional field set)', fullIdentity],
    ['minimal identity', minimalIdentity],
  ] as const) {
    it(`ok/round trip of a ${label}`, async () => {
      const ca = await makeCa('ed25519')
      const der = await signCertificate(
        leafTemplate(ca, {
          subject: identitySubject(identity),
          extensions: [basicConstraints(false), identityExtension(identity)],
        }),
        ca.signer,
      )
      assert.deepEqual(decodeIdentity(der), identity)
      assert.equal(
        new x509.X509Certificate(der).subject,
        ['CN=' + identity.user, ...identity.roles.map((r) => `O=${r}`)].join(', '),
      )
    })
  }

  const encoded = Buffer.from(identityExtension(minimalIdentity).value)
  const validJson = JSON.parse(encoded.subarray(readTlv(encoded, 0).start).toString('utf8'))
  const broken: ReadonlyArray<readonly [string, Extension[] | (() => Buffer)]> = [
    ['fail/no identity extension', [basicConstraints(false)]],
    ['fail/malformed JSON', [textExtension(IDENTITY_EXTENSION_OID, '{"v":1,')]],
    [
      'fail/an unknown JSON field',
      [textExtension(IDENTITY_EXTENSION_OID, JSON.stringify({ ...validJson, admin: true }))],
    ],
    [
      'fail/an unknown version',
      [textExtension(IDENTITY_EXTENSION_OID, JSON.stringify({ ...validJson, v: 2 }))],
    ],
    [
      'fail/a missing required field',
      [textExtension(IDENTITY_EXTENSION_OID, JSON.stringify({ ...validJson, renewable: undefined }))],
    ],
    [
      'fail/a wrongly typed field',
      [textExtension(IDENTITY_EXTENSION_OID, JSON.stringify({ ...validJson, generation: '1' }))],
    ],
    ['fail/JSON that is not an object', [textExtension(IDENTITY_EXTENSION_OID, '[]')]],
    [
      'fail/the value is not a UTF8String',
      [{ oid: IDENTITY_EXTENSION_OID, critical: false, value: ia5String(JSON.stringify(validJson)) }],
    ],
    ['fail/not a certificate at all', () => Buffer.from('not DER')],
    ['fail/an empty input', () => Buffer.alloc(0)],
  ]
  for (const [title, input] of broken) {
    it(`${title} → ERR_UNAUTHENTICATED`, async () => {
      let der: Buffer
      if (typeof input === 'function') der = input()
      else {
        const ca = await makeCa('ed25519')
        der = await signCertificate(leafTemplate(ca, { extensions: input }), ca.signer)
      }
      assert.throws(
        () => decodeIdentity(der),
        (err: unknown) => {
          assert.ok(err instanceof UnauthenticatedError, String(err))
          assert.equal(err.code, 'ERR_UNAUTHENTICATED')
          assert.equal(err.status, 401)
          return true
        },
      )
    })
  }

  it('ok/the identity OID has every arc below 2^31 (Go and asn1js reject larger ones)', () => {
    const arcs = IDENTITY_EXTENSION_OID.split('.').map(Number)
    for (const arc of arcs) assert.ok(arc < 2 ** 31)
    assert.equal(hexOf(oid(IDENTITY_EXTENSION_OID)), '06052bce0f0701')
  })
})

describe('golden TBSCertificates', () => {
  /**
   * Everything that feeds a TBSCertificate is fixed: the clock, the random serials and subject
   * key (sequenceRandom), and the CA key (a test-only key committed under test/fixtures/keys).
   * ECDSA signatures are randomized, so only the TBSCertificate is pinned; the signature over it
   * is verified instead.
   */
  async function fixture() {
    const clock = new ManualClock(NOW)
    const random = sequenceRandom(42)
    const signer = LocalSigner.fromPkcs8Pem(
      readFileSync(join(FIXTURES, 'keys/test-ca-p256.pkcs8.pem'), 'utf8'),
    )
    const caSerial = random.bytes(16)
    const leafSerial = random.bytes(16)
    leafSerial[0] = (leafSerial[0] as number) & 0x7f
    // An Ed25519 subject key from a fixed seed: PKCS #8 prefix (RFC 8410) + 32 seed bytes.
    const seed = Buffer.from(random.bytes(32))
    const subjectKey = createPrivateKey({
      key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
      format: 'der',
      type: 'pkcs8',
    })
    const subjectSpki = createPublicKey(subjectKey).export({ type: 'spki', format: 'der' })
    return { now: clock.now(), signer, caSerial, leafSerial, subjectSpki }
  }

  it('ok/the user CA certificate', async () => {
    const f = await fixture()
    const der = await createCaCertificate(f.signer, {
      clusterName: 'golden.example',
      caName: 'user',
      serial: f.caSerial,
      now: f.now,
    })
    assert.equal(new NodeX509(der).verify(createPublicKey(f.signer.exportPkcs8Pem())), true)
    assertGolden('x509-ca-tbs.hex', tbsOf(der))
  })

  it('ok/a bot leaf certificate with the full identity', async () => {
    const f = await fixture()
    const caKeyId = keyIdentifier(f.signer.publicKey)
    const template: CertificateTemplate = {
      serial: f.leafSerial,
      issuer: caSubject('golden.example', 'user'),
      subject: identitySubject(fullIdentity),
      notBefore: new Date(f.now.getTime() - 60_000),
      notAfter: new Date(f.now.getTime() + HOUR_MS),
      publicKey: f.subjectSpki,
      extensions: [
        basicConstraints(false),
        keyUsage([KeyUsage.digitalSignature]),
        extendedKeyUsage('clientAuth'),
        authorityKeyIdentifier(caKeyId),
        identityExtension(fullIdentity),
      ],
    }

    const tbs = encodeTbsCertificate(template, f.signer.algorithm)
    const der = await signCertificate(template, f.signer)

    assert.deepEqual(tbsOf(der), tbs)
    assert.equal(new NodeX509(der).verify(createPublicKey(f.signer.exportPkcs8Pem())), true)
    assertGolden('x509-leaf-tbs.hex', tbs)
  })
})

/** Compares `actual` with a golden hex file; UPDATE_GOLDEN=1 rewrites the file instead. */
function assertGolden(name: string, actual: Uint8Array): void {
  const path = join(FIXTURES, 'golden', name)
  const text = `${(hexOf(actual).match(/.{1,64}/g) ?? []).join('\n')}\n`
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, text)
    return
  }
  assert.ok(existsSync(path), `${path} is missing; run with UPDATE_GOLDEN=1 to create it`)
  assert.equal(text, readFileSync(path, 'utf8'), `${name} changed; if on purpose, rerun with UPDATE_GOLDEN=1`)
}
