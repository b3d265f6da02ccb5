/**
 * Caller key parsing: `parseSpki` (lib/ca/spki.ts) recognises exactly the P-256 and Ed25519
 * SubjectPublicKeyInfo encodings node:crypto produces, and `parseCallerPublicKey`
 * (lib/auth/public-key.ts) turns anything else a caller sends into ERR_BAD_REQUEST.
 */
import assert from 'node:assert/strict'
import { createPublicKey, ECDH, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { describe, it } from 'node:test'
import { parseCallerPublicKey } from '../../../lib/auth/public-key.ts'
import { parseSpki } from '../../../lib/ca/spki.ts'
import { BadRequestError } from '../../../lib/errors.ts'

const spkiDer = (key: KeyObject) => key.export({ type: 'spki', format: 'der' })
const spkiPem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }) as string
const b64url = (text: string | undefined) => Buffer.from(text ?? '', 'base64url')

const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const ed25519 = generateKeyPairSync('ed25519')
const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }) // size is irrelevant: RSA is refused

/** A P-256 SPKI with the compressed (33-byte) form of the point, which node never emits. */
function compressedP256Spki(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' })
  const uncompressed = Buffer.concat([Buffer.from([4]), b64url(jwk.x), b64url(jwk.y)])
  const compressed = ECDH.convertKey(uncompressed, 'prime256v1', undefined, undefined, 'compressed') as Buffer
  const der = Buffer.concat([
    Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
    compressed,
  ])
  // Sanity: the encoding is valid, so only parseSpki's policy can refuse it.
  assert.equal(createPublicKey({ key: der, format: 'der', type: 'spki' }).asymmetricKeyType, 'ec')
  return der
}

describe('parseSpki', () => {
  it('ok/P-256: the point is 04‖x‖y of the JWK', () => {
    const der = spkiDer(p256.publicKey)
    const jwk = p256.publicKey.export({ format: 'jwk' })

    const key = parseSpki(der)

    assert.equal(key?.type, 'ecdsa-p256')
    assert.deepEqual(key?.point, Buffer.concat([Buffer.from([4]), b64url(jwk.x), b64url(jwk.y)]))
    assert.deepEqual(key?.spki, der)
  })

  it('ok/Ed25519: the point is the JWK x', () => {
    const der = spkiDer(ed25519.publicKey)
    const key = parseSpki(new Uint8Array(der))
    assert.equal(key?.type, 'ed25519')
    assert.deepEqual(key?.point, b64url(ed25519.publicKey.export({ format: 'jwk' }).x))
    assert.deepEqual(key?.spki, der)
  })

  it('ok/the result does not alias the caller buffer', () => {
    const der = new Uint8Array(spkiDer(ed25519.publicKey))
    const key = parseSpki(der)
    der.fill(0)
    assert.deepEqual(key?.point, b64url(ed25519.publicKey.export({ format: 'jwk' }).x))
  })

  const refused: ReadonlyArray<readonly [string, () => Uint8Array]> = [
    ['fail/P-384', () => spkiDer(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey)],
    ['fail/secp256k1', () => spkiDer(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey)],
    ['fail/RSA', () => spkiDer(rsa.publicKey)],
    ['fail/X25519', () => spkiDer(generateKeyPairSync('x25519').publicKey)],
    ['fail/Ed448', () => spkiDer(generateKeyPairSync('ed448').publicKey)],
    ['fail/P-256 truncated by one byte', () => spkiDer(p256.publicKey).subarray(0, -1)],
    ['fail/Ed25519 truncated by one byte', () => spkiDer(ed25519.publicKey).subarray(0, -1)],
    ['fail/P-256 with a trailing byte', () => Buffer.concat([spkiDer(p256.publicKey), Buffer.from([0])])],
    ['fail/P-256 compressed point', () => compressedP256Spki(p256.publicKey)],
    [
      'fail/P-256 of the right length whose point is not uncompressed (0x02 prefix)',
      () => {
        const der = Buffer.from(spkiDer(p256.publicKey))
        der[26] = 0x02
        return der
      },
    ],
    ['fail/empty input', () => new Uint8Array(0)],
    ['fail/a PEM passed as bytes', () => Buffer.from(spkiPem(p256.publicKey))],
  ]
  for (const [title, der] of refused) {
    it(`${title} → undefined`, () => {
      assert.equal(parseSpki(der()), undefined)
    })
  }
})

describe('parseCallerPublicKey', () => {
  const accepted: ReadonlyArray<readonly [string, () => string, 'ecdsa-p256' | 'ed25519', KeyObject]> = [
    ['ok/P-256 PEM', () => spkiPem(p256.publicKey), 'ecdsa-p256', p256.publicKey],
    ['ok/Ed25519 PEM', () => spkiPem(ed25519.publicKey), 'ed25519', ed25519.publicKey],
    [
      'ok/CRLF line endings',
      () => spkiPem(p256.publicKey).replace(/\n/g, '\r\n'),
      'ecdsa-p256',
      p256.publicKey,
    ],
    ['ok/no final newline', () => spkiPem(ed25519.publicKey).trimEnd(), 'ed25519', ed25519.publicKey],
    [
      'ok/surrounding whitespace',
      () => `\n  ${spkiPem(ed25519.publicKey)}  \n`,
      'ed25519',
      ed25519.publicKey,
    ],
  ]
  for (const [title, pem, type, key] of accepted) {
    it(title, () => {
      const parsed = parseCallerPublicKey(pem())
      assert.equal(parsed.type, type)
      assert.deepEqual(parsed.spki, spkiDer(key))
    })
  }

  const pkcs8 = p256.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  const rejected: ReadonlyArray<readonly [string, unknown, RegExp]> = [
    ['fail/RSA public key PEM', spkiPem(rsa.publicKey), /ECDSA P-256 or Ed25519/],
    [
      'fail/PKCS #1 RSA PUBLIC KEY PEM',
      rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }),
      /PEM public key/,
    ],
    [
      'fail/P-384 public key PEM',
      spkiPem(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey),
      /P-256/,
    ],
    ['fail/a private key PEM', pkcs8, /PEM public key/],
    [
      'fail/a private key PEM relabelled as a public key',
      pkcs8.replace(/PRIVATE KEY/g, 'PUBLIC KEY'),
      /ECDSA P-256 or Ed25519/,
    ],
    ['fail/two PEM blocks', spkiPem(p256.publicKey) + spkiPem(ed25519.publicKey), /PEM public key/],
    ['fail/garbage text', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== me@host', /PEM public key/],
    [
      'fail/garbage base64 inside PEM armour',
      '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
      /P-256/,
    ],
    ['fail/empty string', '', /PEM public key/],
    ['fail/undefined', undefined, /PEM public key/],
    ['fail/null', null, /PEM public key/],
    ['fail/a number', 42, /PEM public key/],
    ['fail/an object', { pem: spkiPem(p256.publicKey) }, /PEM public key/],
    ['fail/a Buffer holding a PEM', Buffer.from(spkiPem(p256.publicKey)), /PEM public key/],
    [
      'fail/longer than 4096 characters (even if valid after trimming)',
      spkiPem(ed25519.publicKey) + ' '.repeat(4097),
      /PEM public key/,
    ],
  ]
  for (const [title, input, message] of rejected) {
    it(`${title} → ERR_BAD_REQUEST`, () => {
      assert.throws(
        () => parseCallerPublicKey(input),
        (err: unknown) => {
          assert.ok(err instanceof BadRequestError, String(err))
          assert.equal(err.code, 'ERR_BAD_REQUEST')
          assert.equal(err.status, 400)
          assert.match(err.message, /^public_key /)
          assert.match(err.message, message)
          return true
        },
      )
    })
  }

  it('ok/a PEM of exactly 4096 characters is still read', () => {
    const pem = spkiPem(ed25519.publicKey)
    const padded = pem + ' '.repeat(4096 - pem.length)
    assert.equal(padded.length, 4096)
    assert.equal(parseCallerPublicKey(padded).type, 'ed25519')
  })

  it('fail/the error names the field it was given', () => {
    assert.throws(() => parseCallerPublicKey('nope', 'subject_key'), /^BadRequestError: subject_key /)
  })
})
