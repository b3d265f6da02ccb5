/**
 * OpenSSH certificates (`lib/ca/ssh/*`) and the identity extensions they carry
 * (`lib/identity/ssh-encoding.ts`): decoded field by field here, signatures checked with
 * node:crypto, and listed by the real `ssh-keygen -L`, which also checks the CA signature.
 */
import assert from 'node:assert/strict'
import { createPublicKey, generateKeyPairSync, type KeyObject, verify } from 'node:crypto'
import { describe, it } from 'node:test'
import { LocalSigner } from '../../../lib/adapters/local/signer.ts'
import { parseSpki, type SpkiKey } from '../../../lib/ca/spki.ts'
import {
  type SshCertificateTemplate,
  type SshCertType,
  signSshCertificate,
} from '../../../lib/ca/ssh/certificate.ts'
import { publicKeyBlob } from '../../../lib/ca/ssh/public-key.ts'
import { SshReader, SshWriter } from '../../../lib/ca/ssh/wire.ts'
import type { Identity } from '../../../lib/identity/identity.ts'
import { sshIdentityExtensions } from '../../../lib/identity/ssh-encoding.ts'
import type { SignatureAlgorithm } from '../../../lib/ports/signer.ts'
import { sshKeygenList } from '../../helpers/sshd.ts'

interface CaCase {
  readonly algorithm: SignatureAlgorithm
  readonly ca: LocalSigner
  /** How ssh-keygen names the CA key and its signature type. */
  readonly label: string
  readonly sigType: string
}

// One CA per algorithm for the whole file (RSA key generation takes ~0.2 s).
const CAS: readonly CaCase[] = [
  { algorithm: 'ed25519', ca: LocalSigner.generate('ed25519'), label: 'ED25519', sigType: 'ssh-ed25519' },
  {
    algorithm: 'ecdsa-p256-sha256',
    ca: LocalSigner.generate('ecdsa-p256-sha256'),
    label: 'ECDSA',
    sigType: 'ecdsa-sha2-nistp256',
  },
  {
    algorithm: 'rsa-pkcs1-sha256',
    ca: LocalSigner.generate('rsa-pkcs1-sha256'),
    label: 'RSA',
    sigType: 'rsa-sha2-256',
  },
]

const SUBJECTS = [
  { name: 'Ed25519', sshType: 'ssh-ed25519', key: generateKeyPairSync('ed25519').publicKey },
  {
    name: 'ECDSA P-256',
    sshType: 'ecdsa-sha2-nistp256',
    key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
  },
] as const

const TYPES: readonly SshCertType[] = ['user', 'host']
const NONCE = Uint8Array.from({ length: 32 }, (_, i) => i + 1)

function spkiOf(key: KeyObject): SpkiKey {
  const parsed = parseSpki(key.export({ type: 'spki', format: 'der' }))
  assert.ok(parsed)
  return parsed
}

function template(
  type: SshCertType,
  publicKey: KeyObject | SpkiKey,
  overrides: Partial<SshCertificateTemplate> = {},
): SshCertificateTemplate {
  return {
    type,
    publicKey,
    keyId: type === 'user' ? 'bot-alice' : 'host-db-1',
    principals: type === 'user' ? ['alice', 'ops'] : ['db-1.example.internal', 'db-1'],
    serial: 2n ** 64n - 1n,
    validAfter: new Date('2030-01-02T03:04:05.999Z'),
    validBefore: new Date('2030-01-02T04:04:05Z'),
    criticalOptions: { 'source-address': '10.0.0.0/8', 'force-command': 'true' },
    extensions: { 'permit-pty': '', 'roles@credbroker': '["bot-alice"]' },
    nonce: NONCE,
    ...overrides,
  }
}

interface DecodedCertificate {
  readonly certType: string
  readonly nonce: Buffer
  readonly keyFields: Buffer[]
  readonly serial: bigint
  readonly type: number
  readonly keyId: string
  readonly principals: string[]
  readonly validAfter: bigint
  readonly validBefore: bigint
  readonly criticalOptions: Array<[string, Buffer]>
  readonly extensions: Array<[string, Buffer]>
  readonly reserved: Buffer
  readonly signatureKey: Buffer
  readonly signature: Buffer
  /** Everything the signature covers. */
  readonly signed: Buffer
}

/** Decodes a certificate blob with SshReader, following PROTOCOL.certkeys. */
function decode(blob: Buffer): DecodedCertificate {
  const r = new SshReader(blob)
  const certType = r.text()
  const nonce = r.string()
  const fieldCount = { 'ssh-ed25519': 1, 'ecdsa-sha2-nistp256': 2, 'ssh-rsa': 2 }[
    certType.replace('-cert-v01@openssh.com', '')
  ]
  assert.ok(fieldCount, `unexpected certificate type ${certType}`)
  const keyFields = Array.from({ length: fieldCount }, () => r.string())
  const serial = r.uint64()
  const type = r.uint32()
  const keyId = r.text()
  const principals = unpackStrings(r.string())
  const validAfter = r.uint64()
  const validBefore = r.uint64()
  const criticalOptions = unpackPairs(r.string())
  const extensions = unpackPairs(r.string())
  const reserved = r.string()
  const signatureKey = r.string()
  const signature = r.string()
  assert.equal(r.done, true, 'no bytes after the signature')
  const signed = blob.subarray(0, blob.length - 4 - signature.length)
  return {
    certType,
    nonce,
    keyFields,
    serial,
    type,
    keyId,
    principals,
    validAfter,
    validBefore,
    criticalOptions,
    extensions,
    reserved,
    signatureKey,
    signature,
    signed,
  }
}

function unpackStrings(packed: Buffer): string[] {
  const r = new SshReader(packed)
  const out: string[] = []
  while (!r.done) out.push(r.text())
  return out
}

function unpackPairs(packed: Buffer): Array<[string, Buffer]> {
  const r = new SshReader(packed)
  const out: Array<[string, Buffer]> = []
  while (!r.done) out.push([r.text(), r.string()])
  return out
}

/** Checks an SSH signature blob over `signed` with node:crypto and the CA's SPKI. */
function verifySshSignature(c: CaCase, signed: Buffer, signatureBlob: Buffer): boolean {
  const key = createPublicKey({ key: Buffer.from(c.ca.publicKey), format: 'der', type: 'spki' })
  const r = new SshReader(signatureBlob)
  assert.equal(r.text(), c.sigType)
  const sig = r.string()
  assert.equal(r.done, true)
  switch (c.algorithm) {
    case 'ed25519':
      return verify(null, signed, key, sig)
    case 'rsa-pkcs1-sha256':
      return verify('sha256', signed, key, sig)
    case 'ecdsa-p256-sha256': {
      // RFC 5656 §3.1.2: string(mpint r, mpint s) → fixed-width r‖s for node's ieee-p1363 form.
      const rs = new SshReader(sig)
      const fixed = (mpint: Buffer) => {
        assert.ok(mpint.length <= 33)
        const out = Buffer.alloc(32)
        const trimmed = mpint.length === 33 ? mpint.subarray(1) : mpint
        trimmed.copy(out, 32 - trimmed.length)
        return out
      }
      const raw = Buffer.concat([fixed(rs.string()), fixed(rs.string())])
      assert.equal(rs.done, true)
      return verify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, raw)
    }
  }
}

const caName = (c: CaCase) => `${c.algorithm} CA`

describe('signSshCertificate', () => {
  for (const c of CAS) {
    for (const subject of SUBJECTS) {
      for (const type of TYPES) {
        it(`ok/${caName(c)}, ${subject.name} ${type} key: KeyObject and parsed SPKI give the same certificate`, async () => {
          const fromKeyObject = await signSshCertificate(template(type, subject.key), c.ca)
          const fromSpki = await signSshCertificate(template(type, spkiOf(subject.key)), c.ca)

          const a = decode(fromKeyObject.blob)
          const b = decode(fromSpki.blob)
          assert.deepEqual(a.signed, b.signed)
          // ECDSA signatures are randomized; Ed25519 and RSA PKCS #1 v1.5 ones are deterministic.
          if (c.algorithm === 'ecdsa-p256-sha256') assert.notDeepEqual(a.signature, b.signature)
          else assert.deepEqual(fromKeyObject.blob, fromSpki.blob)
          assert.equal(fromKeyObject.line.split(' ')[0], `${subject.sshType}-cert-v01@openssh.com`)
          assert.equal(verifySshSignature(c, a.signed, a.signature), true)
          assert.equal(verifySshSignature(c, b.signed, b.signature), true)
        })
      }
    }

    it(`ok/${caName(c)}: every field is encoded as PROTOCOL.certkeys says`, async () => {
      const subject = SUBJECTS[1]
      const cert = await signSshCertificate(template('user', subject.key), c.ca)
      const d = decode(cert.blob)
      const jwk = subject.key.export({ format: 'jwk' })

      assert.equal(cert.line, `ecdsa-sha2-nistp256-cert-v01@openssh.com ${cert.blob.toString('base64')}`)
      assert.equal(d.certType, 'ecdsa-sha2-nistp256-cert-v01@openssh.com')
      assert.deepEqual(d.nonce, Buffer.from(NONCE))
      assert.deepEqual(d.keyFields, [
        Buffer.from('nistp256'),
        Buffer.concat([
          Buffer.from([4]),
          Buffer.from(jwk.x ?? '', 'base64url'),
          Buffer.from(jwk.y ?? '', 'base64url'),
        ]),
      ])
      assert.equal(d.serial, 2n ** 64n - 1n)
      assert.equal(d.type, 1)
      assert.equal(d.keyId, 'bot-alice')
      assert.deepEqual(d.principals, ['alice', 'ops'])
      assert.equal(d.validAfter, BigInt(Date.parse('2030-01-02T03:04:05Z') / 1000)) // milliseconds dropped
      assert.equal(d.validBefore, BigInt(Date.parse('2030-01-02T04:04:05Z') / 1000))
      // Sorted by name; non-empty values wrapped in an SSH string, flags empty.
      assert.deepEqual(d.criticalOptions, [
        ['force-command', new SshWriter().string('true').toBuffer()],
        ['source-address', new SshWriter().string('10.0.0.0/8').toBuffer()],
      ])
      assert.deepEqual(d.extensions, [
        ['permit-pty', Buffer.alloc(0)],
        ['roles@credbroker', new SshWriter().string('["bot-alice"]').toBuffer()],
      ])
      assert.deepEqual(d.reserved, Buffer.alloc(0))
      assert.deepEqual(d.signatureKey, publicKeyBlob(c.ca.publicKey))
    })
  }

  it('ok/an RSA subject key (KeyObject only) is certified as ssh-rsa', async () => {
    const rsaSubject = createPublicKey((CAS[2] as CaCase).ca.exportPkcs8Pem())
    const [c] = CAS as [CaCase]
    const cert = await signSshCertificate(template('user', rsaSubject), c.ca)
    const d = decode(cert.blob)
    assert.equal(d.certType, 'ssh-rsa-cert-v01@openssh.com')
    assert.equal(verifySshSignature(c, d.signed, d.signature), true)
    assert.match(await sshKeygenList(cert.line), /Type: ssh-rsa-cert-v01@openssh\.com user certificate/)
  })

  it('ok/without options or extensions both lists are empty strings', async () => {
    const [c] = CAS as [CaCase]
    const cert = await signSshCertificate(
      { ...template('host', SUBJECTS[0].key), criticalOptions: undefined, extensions: undefined },
      c.ca,
    )
    const d = decode(cert.blob)
    assert.deepEqual([d.criticalOptions, d.extensions], [[], []])
  })
})

describe('ssh-keygen -L', () => {
  for (const c of CAS) {
    for (const type of TYPES) {
      it(`ok/${caName(c)}: a ${type} certificate lists type, key id, serial, principals, validity, options`, async () => {
        const t = template(type, spkiOf(SUBJECTS[0].key))
        const cert = await signSshCertificate(t, c.ca)

        const listing = await sshKeygenList(cert.line)

        assert.match(listing, new RegExp(`Type: ssh-ed25519-cert-v01@openssh\\.com ${type} certificate`))
        assert.match(listing, new RegExp(`Signing CA: ${c.label} SHA256:\\S+ \\(using ${c.sigType}\\)`))
        assert.ok(listing.includes(`Key ID: "${t.keyId}"`), listing)
        assert.ok(listing.includes(`Serial: ${2n ** 64n - 1n}`), listing)
        assert.ok(listing.includes('Valid: from 2030-01-02T03:04:05 to 2030-01-02T04:04:05'), listing)
        assert.match(listing, new RegExp(`Principals: \\n\\s+${t.principals[0]}\\n\\s+${t.principals[1]}\\n`))
        assert.match(listing, /Critical Options: \n\s+force-command true\n\s+source-address 10\.0\.0\.0\/8\n/)
        assert.match(listing, /Extensions: \n\s+permit-pty\n\s+roles@credbroker UNKNOWN OPTION: /)
      })
    }

    it(`fail/${caName(c)}: a flipped byte in the signed part is reported as an invalid signature`, async () => {
      const cert = await signSshCertificate(template('user', SUBJECTS[0].key, { keyId: 'flip-me' }), c.ca)
      await sshKeygenList(cert.line) // intact: accepted
      const damaged = Buffer.from(cert.blob)
      const at = damaged.indexOf('flip-me')
      assert.ok(at > 0)
      damaged[at] = (damaged[at] as number) ^ 0x01 // 'f' → 'g': still well-formed
      const line = `${cert.line.split(' ')[0]} ${damaged.toString('base64')}`

      await assert.rejects(sshKeygenList(line), /incorrect signature/)
    })
  }
})

describe('sshIdentityExtensions', () => {
  const standard = { 'permit-pty': '', 'permit-port-forwarding': '', 'permit-agent-forwarding': '' }
  const cases: ReadonlyArray<readonly [string, Identity, Record<string, string>]> = [
    [
      'ok/a renewable bot identity carries bot name, instance, generation and the renewable flag',
      {
        user: 'bot-alice',
        roles: ['bot-alice'],
        logins: ['alice'],
        botName: 'alice',
        botInstanceId: '3f2a1c9e-0b7d-4e55-9a61-2d8e4c7b1f00',
        generation: 3,
        renewable: true,
        disallowReissue: false,
      },
      {
        ...standard,
        'roles@credbroker': '["bot-alice"]',
        'bot-name@credbroker': 'alice',
        'bot-instance-id@credbroker': '3f2a1c9e-0b7d-4e55-9a61-2d8e4c7b1f00',
        'generation@credbroker': '3',
        'renewable@credbroker': '',
      },
    ],
    [
      'ok/an impersonated identity carries the impersonator and disallow-reissue, no renewable or generation',
      {
        user: 'bot-alice',
        roles: ['db-readers', 'ops'],
        logins: ['postgres'],
        generation: 0,
        renewable: false,
        disallowReissue: true,
        impersonator: 'bot-alice',
      },
      {
        ...standard,
        'roles@credbroker': '["db-readers","ops"]',
        'disallow-reissue@credbroker': '',
        'impersonator@credbroker': 'bot-alice',
      },
    ],
    [
      'ok/a minimal identity carries only the standard extensions and its roles',
      { user: 'admin', roles: [], logins: [], generation: 0, renewable: false, disallowReissue: false },
      { ...standard, 'roles@credbroker': '[]' },
    ],
  ]
  for (const [title, identity, expected] of cases) {
    it(title, () => {
      assert.deepEqual(sshIdentityExtensions(identity), expected)
    })
  }

  it('ok/ssh-keygen shows flags as flags and values as values', async () => {
    const [bot, impersonated] = cases.map(([, identity]) => identity) as [Identity, Identity, Identity]
    const [c] = CAS as [CaCase]
    const list = async (identity: Identity) =>
      sshKeygenList(
        (
          await signSshCertificate(
            template('user', SUBJECTS[0].key, { extensions: sshIdentityExtensions(identity) }),
            c.ca,
          )
        ).line,
      )

    const botListing = await list(bot)
    assert.match(botListing, /\n\s+renewable@credbroker UNKNOWN FLAG OPTION\n/)
    assert.match(botListing, /\n\s+generation@credbroker UNKNOWN OPTION: /)
    assert.doesNotMatch(botListing, /disallow-reissue@credbroker/)

    const impersonatedListing = await list(impersonated)
    assert.match(impersonatedListing, /\n\s+disallow-reissue@credbroker UNKNOWN FLAG OPTION\n/)
    assert.match(impersonatedListing, /\n\s+impersonator@credbroker UNKNOWN OPTION: /)
    assert.doesNotMatch(impersonatedListing, /renewable@credbroker|generation@credbroker/)
    for (const flag of ['permit-pty', 'permit-port-forwarding', 'permit-agent-forwarding'])
      assert.match(impersonatedListing, new RegExp(`\\n\\s+${flag}\\n`))
  })
})

describe('SSH wire encoding', () => {
  it('ok/SshReader reads back everything SshWriter wrote', () => {
    const bytes = Uint8Array.of(0, 1, 2, 0xff)
    const buf = new SshWriter()
      .uint32(0)
      .uint32(0xffffffff)
      .uint64(0n)
      .uint64(2n ** 64n - 1n)
      .string('')
      .string('żółw')
      .string(bytes)
      .raw(Uint8Array.of(0, 0, 0, 1, 0x2a))
      .toBuffer()

    const r = new SshReader(buf)
    assert.equal(r.uint32(), 0)
    assert.equal(r.uint32(), 0xffffffff)
    assert.equal(r.uint64(), 0n)
    assert.equal(r.uint64(), 2n ** 64n - 1n)
    assert.equal(r.text(), '')
    assert.equal(r.text(), 'żółw')
    assert.deepEqual(r.string(), Buffer.from(bytes))
    assert.deepEqual(r.string(), Buffer.from([0x2a])) // the raw bytes form a string too
    assert.equal(r.done, true)
  })

  it('ok/integers out of range wrap to their unsigned width', () => {
    const buf = new SshWriter()
      .uint32(-1)
      .uint64(-1n)
      .uint64(2n ** 64n)
      .toBuffer()
    const r = new SshReader(buf)
    assert.deepEqual([r.uint32(), r.uint64(), r.uint64()], [0xffffffff, 2n ** 64n - 1n, 0n])
  })

  // RFC 4251 §5 mpint examples, plus leading zeros in the input.
  const mpints: ReadonlyArray<readonly [string, string, string]> = [
    ['ok/zero is the empty string', '', '00000000'],
    ['ok/zero bytes are zero', '0000', '00000000'],
    ['ok/9a378f9b2e332a7', '09a378f9b2e332a7', '0000000809a378f9b2e332a7'],
    ['ok/0x80 gets a zero pad', '80', '000000020080'],
    ['ok/leading zeros are stripped before padding', '00008001', '00000003008001'],
    ['ok/a high bit further down needs no pad', '0000007f', '000000017f'],
  ]
  for (const [title, magnitude, expected] of mpints) {
    it(title, () => {
      assert.equal(new SshWriter().mpint(Buffer.from(magnitude, 'hex')).toBuffer().toString('hex'), expected)
    })
  }

  const truncated: ReadonlyArray<readonly [string, (r: SshReader) => unknown, string]> = [
    ['fail/uint32 from 3 bytes', (r) => r.uint32(), '000000'],
    ['fail/uint64 from 7 bytes', (r) => r.uint64(), '00000000000000'],
    ['fail/a string longer than the data', (r) => r.string(), '0000000561626364'],
    ['fail/a string length of 2^32 − 1', (r) => r.string(), 'ffffffff00'],
  ]
  for (const [title, read, data] of truncated) {
    it(`${title} → RangeError`, () => {
      assert.throws(() => read(new SshReader(Buffer.from(data, 'hex'))), RangeError)
    })
  }
})
