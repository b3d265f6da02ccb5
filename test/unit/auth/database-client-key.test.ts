/**
 * RSA client keys are for database certificates only: accepted (2048–4096 bits, exponent 65537)
 * with a database route, refused for every other certificate; and the bot's RSA key pool hands
 * out fresh 2048-bit keys, each once.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync, X509Certificate } from 'node:crypto'
import { before, describe, it } from 'node:test'
import { parseDatabaseClientPublicKey } from '../../../lib/auth/public-key.ts'
import type { ClientIdentity } from '../../../lib/bot/auth-client.ts'
import { RsaKeyPool } from '../../../lib/bot/rsa-key-pool.ts'
import { type AuthHarness, authHarness, joinedBot } from '../../helpers/auth-harness.ts'

const rsaPem = (bits: number, publicExponent = 0x10001) =>
  generateKeyPairSync('rsa', { modulusLength: bits, publicExponent }).publicKey.export({
    type: 'spki',
    format: 'pem',
  }) as string

function badRequest(fn: () => unknown, message: RegExp) {
  assert.throws(fn, (err: { code?: string; message?: string }) => {
    assert.equal(err.code, 'ERR_BAD_REQUEST')
    assert.match(err.message ?? '', message)
    return true
  })
}

describe('parseDatabaseClientPublicKey', () => {
  it('ok/RSA 2048 and 4096, and the identity key types', () => {
    assert.equal(parseDatabaseClientPublicKey(rsaPem(2048)).type, 'rsa')
    assert.equal(parseDatabaseClientPublicKey(rsaPem(4096)).type, 'rsa')
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    })
    assert.equal(parseDatabaseClientPublicKey(ec).type, 'ecdsa-p256')
  })

  it('fail/RSA 1024, exponent 3, P-384 and garbage are refused', () => {
    badRequest(() => parseDatabaseClientPublicKey(rsaPem(1024)), /RSA 2048–4096/)
    badRequest(() => parseDatabaseClientPublicKey(rsaPem(2048, 3)), /exponent 65537/)
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    })
    badRequest(() => parseDatabaseClientPublicKey(p384), /ECDSA P-256, Ed25519, or RSA/)
    badRequest(
      () => parseDatabaseClientPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'),
      /not a valid public key/,
    )
  })
})

describe('POST /v1/certs with an RSA key', () => {
  let h: AuthHarness
  let bot: ClientIdentity
  before(async () => {
    h = await authHarness()
    bot = (await joinedBot(h)).identity
  })

  it('ok/a database route takes an RSA key: the certificate holds it', async () => {
    const pem = rsaPem(2048)
    const res = await h.client.certs(bot, {
      publicKeyPem: pem,
      roles: ['machine-id-db'],
      ttlSeconds: 3600,
      route: { database: { service: 'example', username: 'alice', database: 'example' } },
    })
    const cert = new X509Certificate(res.tls_cert)
    assert.equal(cert.publicKey.asymmetricKeyType, 'rsa')
    assert.equal(cert.publicKey.export({ type: 'spki', format: 'pem' }), pem)
    assert.equal(res.ssh_cert, undefined)
  })

  it('fail/an identity (no route) with an RSA key is ERR_BAD_REQUEST', async () => {
    await assert.rejects(
      h.client.certs(bot, { publicKeyPem: rsaPem(2048), roles: ['access'], ttlSeconds: 3600 }),
      (err: { code?: string }) => err.code === 'ERR_BAD_REQUEST',
    )
  })
})

describe('RsaKeyPool', () => {
  it('ok/warm then take: distinct 2048-bit keys, each handed out once', async () => {
    const pool = new RsaKeyPool()
    pool.warm()
    const a = await pool.take()
    const b = await pool.take()
    assert.notEqual(a.privatePem, b.privatePem)
    for (const key of [a, b]) {
      assert.equal(key.privateKey.asymmetricKeyType, 'rsa')
      assert.equal(key.privateKey.asymmetricKeyDetails?.modulusLength, 2048)
      assert.match(key.sshPublic, /^ssh-rsa /)
    }
  })
})
