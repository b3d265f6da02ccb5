/**
 * The DER writer (`lib/ca/der.ts`), the DER reader (`lib/ca/der-reader.ts`) and the ECDSA
 * signature conversions (`lib/ca/signature.ts`), checked against byte strings worked out from
 * X.690 by hand.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync, sign, verify } from 'node:crypto'
import { describe, it } from 'node:test'
import { LocalSigner } from '../../../lib/adapters/local/signer.ts'
import {
  bitString,
  boolean,
  explicit,
  ia5String,
  octetString,
  oid,
  sequence,
  setOf,
  smallInteger,
  Tag,
  time,
  tlv,
  unsignedInteger,
  utf8String,
} from '../../../lib/ca/der.ts'
import { children, findExtensionValue, readTlv } from '../../../lib/ca/der-reader.ts'
import { ecdsaDerToRaw, ecdsaRawToDer } from '../../../lib/ca/signature.ts'
import { signCertificate } from '../../../lib/ca/x509/certificate.ts'
import { basicConstraints, textExtension } from '../../../lib/ca/x509/extensions.ts'
import { encodeName, NameAttribute } from '../../../lib/ca/x509/name.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const bytes = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex')

describe('DER writer', () => {
  describe('lengths', () => {
    const cases: ReadonlyArray<readonly [number, string]> = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, '8180'],
      [255, '81ff'],
      [256, '820100'],
      [65535, '82ffff'],
      [65536, '83010000'],
    ]
    for (const [n, header] of cases) {
      it(`ok/${n} content bytes → length ${header}`, () => {
        const encoded = tlv(Tag.octetString, new Uint8Array(n).fill(0xab))
        assert.equal(hex(encoded.subarray(0, 1 + header.length / 2)), `04${header}`)
        assert.equal(encoded.length, 1 + header.length / 2 + n)
        // The reader agrees on where the content starts and ends.
        const read = readTlv(encoded, 0)
        assert.deepEqual(read, { offset: 0, tag: 0x04, start: 1 + header.length / 2, end: encoded.length })
      })
    }

    it('ok/tlv concatenates several contents', () => {
      assert.equal(hex(tlv(0x30, bytes('0101ff'), bytes('020100'))), '30060101ff020100')
    })
  })

  describe('unsignedInteger', () => {
    const cases: ReadonlyArray<readonly [string, string, string]> = [
      ['ok/zero from an empty magnitude', '', '020100'],
      ['ok/zero from a zero byte', '00', '020100'],
      ['ok/zero from several zero bytes', '000000', '020100'],
      ['ok/leading zeros are stripped', '000001', '020101'],
      ['ok/high bit set gets a 0x00 pad', '80', '02020080'],
      ['ok/a redundant zero before a high bit is kept as the pad', '0080', '02020080'],
      ['ok/leading zeros stripped, then padded', '0000ff01', '020300ff01'],
      ['ok/high bit clear needs no pad', '7fff', '02027fff'],
      ['ok/20-byte serial with high bit', 'ff'.repeat(20), `0215 00${'ff'.repeat(20)}`],
    ]
    for (const [title, magnitude, expected] of cases) {
      it(title, () => {
        assert.equal(hex(unsignedInteger(bytes(magnitude))), expected.replace(/\s+/g, ''))
      })
    }
  })

  describe('smallInteger', () => {
    const cases: ReadonlyArray<readonly [number, string]> = [
      [0, '020100'],
      [2, '020102'],
      [127, '02017f'],
      [128, '02020080'],
      [256, '02020100'],
      [Number.MAX_SAFE_INTEGER, '02071fffffffffffff'],
    ]
    for (const [n, expected] of cases) {
      it(`ok/${n} → ${expected}`, () => {
        assert.equal(hex(smallInteger(n)), expected)
      })
    }
    for (const n of [-1, 1.5, Number.NaN, 2 ** 53]) {
      it(`fail/${n} is a programmer error`, () => {
        assert.throws(() => smallInteger(n), TypeError)
      })
    }
  })

  describe('oid', () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ['1.2.840.10045.4.3.2', '06082a8648ce3d040302'], // ecdsa-with-SHA256
      ['2.5.29.19', '0603551d13'], // basicConstraints
      ['2.5.4.3', '0603550403'], // commonName
      ['1.2.840.113549.1.1.11', '06092a864886f70d01010b'], // sha256WithRSAEncryption
      ['1.3.101.112', '06032b6570'], // id-Ed25519
      ['1.3.6.1.5.5.7.3.2', '06082b06010505070302'], // id-kp-clientAuth
      ['1.3.9999.7.1', '06052bce0f0701'], // our identity extension: 9999 = 0x4e·128 + 0x0f
      ['2.999.3', '0603883703'], // X.690 §8.19.5 example: first subidentifier 1079 spans two bytes
      ['1.2.4294967296', '06062a9080808000'], // an arc above 2^32 (BigInt arithmetic)
    ]
    for (const [dotted, expected] of cases) {
      it(`ok/${dotted} → ${expected}`, () => {
        assert.equal(hex(oid(dotted)), expected)
      })
    }

    for (const bad of ['', '1', 'a.b', '1..2', '1.2.-3', '1.2.', ' 1.2']) {
      it(`fail/${JSON.stringify(bad)} is a programmer error`, () => {
        assert.throws(() => oid(bad), TypeError)
      })
    }

    it('fail/arcs X.660 forbids (first arc > 2, second arc ≥ 40 under 0 or 1) are refused', () => {
      assert.throws(() => oid('3.1'), TypeError)
      assert.throws(() => oid('0.40'), TypeError)
      assert.throws(() => oid('1.40'), TypeError)
    })
  })

  describe('time', () => {
    const cases: ReadonlyArray<readonly [string, string, string]> = [
      ['ok/1950 is the first UTCTime year', '1950-01-01T00:00:00Z', `170d${hexAscii('500101000000Z')}`],
      ['ok/2026 is a UTCTime', '2026-03-04T05:06:07Z', `170d${hexAscii('260304050607Z')}`],
      [
        'ok/the last second of 2049 is a UTCTime; milliseconds are dropped',
        '2049-12-31T23:59:59.999Z',
        `170d${hexAscii('491231235959Z')}`,
      ],
      ['ok/2050 starts GeneralizedTime', '2050-01-01T00:00:00Z', `180f${hexAscii('20500101000000Z')}`],
      ['ok/9999 is a GeneralizedTime', '9999-12-31T23:59:59Z', `180f${hexAscii('99991231235959Z')}`],
    ]
    for (const [title, iso, expected] of cases) {
      it(title, () => {
        assert.equal(hex(time(new Date(iso))), expected)
      })
    }
    for (const iso of ['1949-12-31T23:59:59Z', '+010000-01-01T00:00:00Z']) {
      it(`fail/${iso} is out of range`, () => {
        assert.throws(() => time(new Date(iso)), TypeError)
      })
    }
  })

  describe('setOf', () => {
    it('ok/elements are sorted by their encodings, whatever the input order', () => {
      const a = utf8String('a')
      const b = utf8String('b')
      const int = smallInteger(5) // tag 0x02 sorts before tag 0x0c
      const expected = `310902010 5 0c0161 0c0162`.replace(/\s+/g, '')
      assert.equal(hex(setOf(b, a, int)), expected)
      assert.equal(hex(setOf(int, a, b)), expected)
      assert.equal(hex(setOf(a, int, b)), expected)
    })

    it('ok/a prefix sorts before the longer encoding', () => {
      const short = bytes('0401aa')
      const long = bytes('0402aa00')
      assert.equal(hex(setOf(long, short)), '31070401aa0402aa00')
    })

    it('ok/the inputs are not reordered in place', () => {
      const items = [utf8String('z'), utf8String('a')]
      setOf(...items)
      assert.equal(hex(items[0] as Buffer), '0c017a')
    })
  })

  describe('other primitives', () => {
    const cases: ReadonlyArray<readonly [string, () => Buffer, string]> = [
      ['ok/boolean true', () => boolean(true), '0101ff'],
      ['ok/boolean false', () => boolean(false), '010100'],
      ['ok/empty sequence', () => sequence(), '3000'],
      ['ok/explicit [3]', () => explicit(3, smallInteger(1)), 'a303020101'],
      ['ok/explicit [0]', () => explicit(0, smallInteger(2)), 'a003020102'],
      ['ok/bit string with no unused bits', () => bitString(bytes('abcd')), '030300abcd'],
      ['ok/octet string', () => octetString(bytes('0102')), '04020102'],
      ['ok/UTF8String of non-ASCII text', () => utf8String('żółw'), '0c07c5bcc3b3c58277'],
      ['ok/IA5String', () => ia5String('a.example'), '1609612e6578616d706c65'],
    ]
    for (const [title, encode, expected] of cases) {
      it(title, () => {
        assert.equal(hex(encode()), expected)
      })
    }
  })
})

describe('DER reader', () => {
  it('ok/readTlv and children walk nested structures', () => {
    const der = sequence(smallInteger(1), sequence(utf8String('x')), octetString(new Uint8Array(200)))
    const root = readTlv(der, 0)
    const [int, inner, octets] = children(der, root)
    assert.equal(root.tag, 0x30)
    assert.deepEqual([int?.tag, inner?.tag, octets?.tag], [Tag.integer, Tag.sequence, Tag.octetString])
    assert.equal(hex(der.subarray(int?.start, int?.end)), '01')
    assert.equal(octets && octets.end - octets.start, 200)
    assert.equal(octets?.end, der.length)
    const [text] = children(der, inner as NonNullable<typeof inner>)
    assert.equal(der.subarray(text?.start, text?.end).toString('utf8'), 'x')
    assert.deepEqual(children(der, readTlv(sequence(), 0)), [])
  })

  it('ok/readTlv at an offset', () => {
    const der = Buffer.concat([bytes('ffff'), smallInteger(7)])
    assert.deepEqual(readTlv(der, 2), { offset: 2, tag: 0x02, start: 4, end: 5 })
  })

  const malformed: ReadonlyArray<readonly [string, () => unknown]> = [
    ['fail/empty input', () => readTlv(new Uint8Array(0), 0)],
    ['fail/a lone tag byte', () => readTlv(bytes('30'), 0)],
    ['fail/content shorter than the length', () => readTlv(bytes('3005020101'), 0)],
    ['fail/indefinite length (0x80)', () => readTlv(bytes('3080020101 0000'), 0)],
    ['fail/length of length above 4', () => readTlv(bytes('3085 0000000001 00'), 0)],
    ['fail/long-form length bytes cut off', () => readTlv(bytes('308201'), 0)],
    ['fail/a TLV past the given limit', () => readTlv(bytes('0403aabbcc'), 0, 4)],
    [
      'fail/a child overrunning its parent',
      () => children(bytes('3003 0402aabb'), readTlv(bytes('3003 0402aabb'), 0)),
    ],
    [
      'fail/findExtensionValue on a truncated certificate',
      () => findExtensionValue(bytes('3082ffff30'), oid('2.5.29.19')),
    ],
  ]
  for (const [title, read] of malformed) {
    it(`${title} → RangeError`, () => {
      assert.throws(read, RangeError)
    })
  }

  describe('findExtensionValue', () => {
    const ext = '1.3.9999.7.1'
    async function certificate(extensions: Parameters<typeof signCertificate>[0]['extensions']) {
      const signer = LocalSigner.generate('ed25519')
      const name = encodeName([[NameAttribute.commonName, 'der-reader']])
      return signCertificate(
        {
          serial: Uint8Array.of(1),
          issuer: name,
          subject: name,
          notBefore: new Date('2026-01-01T00:00:00Z'),
          notAfter: new Date('2026-01-02T00:00:00Z'),
          publicKey: signer.publicKey,
          extensions,
        },
        signer,
      )
    }

    it('ok/finds the value of a non-critical and of a critical extension', async () => {
      const cert = await certificate([basicConstraints(true), textExtension(ext, '{"v":1}')])
      assert.equal(hex(findExtensionValue(cert, oid(ext)) ?? new Uint8Array()), hex(utf8String('{"v":1}')))
      assert.equal(hex(findExtensionValue(cert, oid('2.5.29.19')) ?? new Uint8Array()), '30060101ff020100')
    })

    it('ok/an absent extension is undefined', async () => {
      const cert = await certificate([basicConstraints(false)])
      assert.equal(findExtensionValue(cert, oid(ext)), undefined)
    })

    it('ok/an extension OID that is a prefix of another does not match', async () => {
      const cert = await certificate([textExtension('1.3.9999.7.12', 'other')])
      assert.equal(findExtensionValue(cert, oid(ext)), undefined)
    })

    it('ok/a certificate without an extensions field is undefined', () => {
      // SEQUENCE { TBSCertificate { [0] version, serial }, … } with no [3].
      const cert = sequence(
        sequence(explicit(0, smallInteger(0)), smallInteger(1)),
        sequence(),
        bitString(bytes('00')),
      )
      assert.equal(findExtensionValue(cert, oid(ext)), undefined)
    })
  })
})

describe('ECDSA signature encodings', () => {
  const rs = (r: string, s: string) => bytes(r.padStart(64, '0') + s.padStart(64, '0'))
  const cases: ReadonlyArray<readonly [string, Buffer, string]> = [
    [
      'ok/r and s without high bits',
      rs('11'.repeat(32), '22'.repeat(32)),
      `3044 0220${'11'.repeat(32)} 0220${'22'.repeat(32)}`,
    ],
    [
      'ok/r with the high bit set gets a 0x00 pad',
      rs('80'.repeat(32), '22'.repeat(32)),
      `3045 022100${'80'.repeat(32)} 0220${'22'.repeat(32)}`,
    ],
    [
      'ok/s with the high bit set gets a 0x00 pad',
      rs('11'.repeat(32), 'ff'.repeat(32)),
      `3045 0220${'11'.repeat(32)} 022100${'ff'.repeat(32)}`,
    ],
    [
      'ok/both padded: the largest signature (72 bytes)',
      rs('ff'.repeat(32), '80'.repeat(32)),
      `3046 022100${'ff'.repeat(32)} 022100${'80'.repeat(32)}`,
    ],
    [
      'ok/short r (leading zero bytes dropped)',
      rs('0001' + '33'.repeat(30), '22'.repeat(32)),
      `3043 021f01${'33'.repeat(30)} 0220${'22'.repeat(32)}`,
    ],
    [
      'ok/short s whose first non-zero byte has the high bit',
      rs('11'.repeat(32), '00' + '90'.repeat(31)),
      `3044 0220${'11'.repeat(32)} 022000${'90'.repeat(31)}`,
    ],
    ['ok/tiny r and s', rs('01', '02'), '3006 020101 020102'],
  ]
  for (const [title, raw, der] of cases) {
    it(title, () => {
      const encoded = ecdsaRawToDer(raw)
      assert.equal(hex(encoded), der.replace(/\s+/g, ''))
      assert.deepEqual(ecdsaDerToRaw(encoded, 32), raw)
    })
  }

  it('ok/node signatures convert to raw (IEEE P1363) and back unchanged', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    for (let i = 0; i < 50; i++) {
      const data = Buffer.from(`message ${i}`)
      const der = sign('sha256', data, privateKey)
      const raw = ecdsaDerToRaw(der, 32)
      assert.equal(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw), true)
      assert.deepEqual(ecdsaRawToDer(raw), der)
    }
  })

  const malformedSignatures: ReadonlyArray<readonly [string, Buffer]> = [
    ['fail/not a SEQUENCE', bytes('3106020101020102')],
    ['fail/r is not an INTEGER', bytes('3006040101020102')],
    ['fail/an integer longer than the curve size', bytes(`3026 0221 01${'11'.repeat(32)} 020101`)],
  ]
  for (const [title, der] of malformedSignatures) {
    it(`${title} → TypeError`, () => {
      assert.throws(() => ecdsaDerToRaw(der, 32), TypeError)
    })
  }

  const silentlyAccepted: ReadonlyArray<readonly [string, (der: Buffer) => Buffer]> = [
    ['fail/a signature cut short by one byte is rejected', (der) => der.subarray(0, der.length - 1)],
    ['fail/trailing bytes after the SEQUENCE are rejected', (der) => Buffer.concat([der, bytes('0000')])],
  ]
  for (const [title, damage] of silentlyAccepted) {
    it(title, () => {
      const der = ecdsaRawToDer(rs('11'.repeat(32), '22'.repeat(32)))
      assert.throws(() => ecdsaDerToRaw(damage(der), 32), TypeError)
    })
  }
})

function hexAscii(text: string): string {
  return Buffer.from(text, 'ascii').toString('hex')
}
