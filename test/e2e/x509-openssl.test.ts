/**
 * X.509 chains from our DER builder (`lib/ca/x509`, signed through a P-256 LocalSigner), proven
 * against `openssl verify` and `openssl x509 -text`: purposes, trust, expiry and extensions.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import { LocalSigner } from '../../lib/adapters/local/signer.ts'
import { certificatePem, signCertificate } from '../../lib/ca/x509/certificate.ts'
import {
  authorityKeyIdentifier,
  basicConstraints,
  extendedKeyUsage,
  KeyUsage,
  keyIdentifier,
  keyUsage,
  subjectAltName,
  subjectKeyIdentifier,
  textExtension,
} from '../../lib/ca/x509/extensions.ts'
import { encodeName, NameAttribute } from '../../lib/ca/x509/name.ts'
import { IDENTITY_EXTENSION_OID } from '../../lib/identity/identity.ts'
import { opensslText, opensslVerify } from '../helpers/openssl.ts'

const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS

interface TestCa {
  readonly signer: LocalSigner
  readonly name: Buffer
  readonly keyId: Buffer
  readonly pem: string
}

/** 16 random bytes with the top bit clear: a positive serial (RFC 5280 §4.1.2.2). */
function serial(): Uint8Array {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0] as number) & 0x7f
  return bytes
}

/** A self-signed root that may sign leaves only (pathLenConstraint 0). */
async function createCa(commonName: string): Promise<TestCa> {
  const signer = LocalSigner.generate('ecdsa-p256-sha256')
  const name = encodeName([
    [NameAttribute.organization, 'credbroker'],
    [NameAttribute.commonName, commonName],
  ])
  const keyId = keyIdentifier(signer.publicKey)
  const now = Date.now()
  const der = await signCertificate(
    {
      serial: serial(),
      issuer: name,
      subject: name,
      notBefore: new Date(now - MINUTE_MS),
      notAfter: new Date(now + 24 * HOUR_MS),
      publicKey: signer.publicKey,
      extensions: [
        basicConstraints(true),
        keyUsage([KeyUsage.keyCertSign, KeyUsage.cRLSign]),
        subjectKeyIdentifier(keyId),
      ],
    },
    signer,
  )
  return { signer, name, keyId, pem: certificatePem(der) }
}

const identityJson = JSON.stringify({
  user: 'bot-alice',
  roles: ['bot-alice'],
  generation: 1,
  renewable: true,
})

/** A TLS client leaf for `bot-alice`, valid for one hour, carrying the identity extension. */
async function createClientLeaf(ca: TestCa): Promise<{ pem: string; notAfter: Date }> {
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
    type: 'spki',
    format: 'der',
  })
  const now = Date.now()
  const notAfter = new Date(now + HOUR_MS)
  const der = await signCertificate(
    {
      serial: serial(),
      issuer: ca.name,
      subject: encodeName([
        [NameAttribute.organization, 'bot-alice'],
        [NameAttribute.commonName, 'bot-alice'],
      ]),
      notBefore: new Date(now - MINUTE_MS),
      notAfter,
      publicKey: spki,
      extensions: [
        basicConstraints(false),
        keyUsage([KeyUsage.digitalSignature]),
        extendedKeyUsage('clientAuth'),
        subjectKeyIdentifier(keyIdentifier(spki)),
        authorityKeyIdentifier(ca.keyId),
        subjectAltName({ uris: ['spiffe://credbroker.test/bot/alice'] }),
        textExtension(IDENTITY_EXTENSION_OID, identityJson),
      ],
    },
    ca.signer,
  )
  return { pem: certificatePem(der), notAfter }
}

describe('X.509 chains against openssl', { timeout: 30_000 }, () => {
  test('ok/openssl verify -purpose sslclient accepts the client leaf', async () => {
    const ca = await createCa('credbroker test CA')
    const leaf = await createClientLeaf(ca)

    const result = await opensslVerify({ caPems: [ca.pem], leafPem: leaf.pem, purpose: 'sslclient' })

    assert.equal(result.ok, true, result.output)
    assert.match(result.output, /leaf\.pem: OK/)
  })

  test('fail/openssl verify -purpose sslserver rejects a client-only leaf', async () => {
    const ca = await createCa('credbroker test CA')
    const leaf = await createClientLeaf(ca)

    const result = await opensslVerify({ caPems: [ca.pem], leafPem: leaf.pem, purpose: 'sslserver' })

    assert.equal(result.ok, false, result.output)
    // X509_V_ERR_INVALID_PURPOSE at depth 0: the leaf itself lacks serverAuth.
    assert.match(result.output, /error 26 at 0 depth lookup: unsuitable certificate purpose/)
  })

  test('fail/openssl verify rejects a leaf issued by another CA', async () => {
    const [trusted, other] = await Promise.all([
      createCa('credbroker test CA'),
      createCa('credbroker test CA'),
    ])
    const leaf = await createClientLeaf(other)

    const result = await opensslVerify({ caPems: [trusted.pem], leafPem: leaf.pem, purpose: 'sslclient' })

    assert.equal(result.ok, false, result.output)
    // Same issuer name but a different key (and key identifier): no trusted issuer matches.
    assert.match(result.output, /error 20 at 0 depth lookup: unable to get local issuer certificate/)
  })

  test('fail/openssl verify -attime after notAfter rejects the leaf as expired', async () => {
    const ca = await createCa('credbroker test CA')
    const leaf = await createClientLeaf(ca)

    const result = await opensslVerify({
      caPems: [ca.pem],
      leafPem: leaf.pem,
      purpose: 'sslclient',
      atTime: new Date(leaf.notAfter.getTime() + MINUTE_MS), // the CA is still valid then
    })

    assert.equal(result.ok, false, result.output)
    assert.match(result.output, /error 10 at 0 depth lookup: certificate has expired/)
  })

  test('ok/openssl x509 -text shows the subject, CA:FALSE and the non-critical identity extension', async () => {
    const ca = await createCa('credbroker test CA')
    const leaf = await createClientLeaf(ca)

    const [text, caText] = await Promise.all([opensslText(leaf.pem), opensslText(ca.pem)])

    assert.match(text, /Subject: O = bot-alice, CN = bot-alice\n/)
    assert.match(text, /Issuer: O = credbroker, CN = credbroker test CA\n/)
    assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/)
    assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication\n/)
    assert.match(text, /URI:spiffe:\/\/credbroker\.test\/bot\/alice/)
    // An unknown extension is printed as `<oid>: ` (`<oid>: critical` if it were critical),
    // followed by a dump of its DER value that contains the JSON text.
    const oid = IDENTITY_EXTENSION_OID.replaceAll('.', '\\.')
    assert.match(text, new RegExp(`\\n\\s+${oid}: *\\n`))
    assert.ok(text.includes('"user":"bot-alice"'), text)
    assert.match(caText, /X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0\n/)
  })
})
