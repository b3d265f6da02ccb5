/**
 * TLS server certificates from `lib/ca/issue-server-certificate.ts` (what a PostgreSQL server or
 * an HTTPS app presents to credbroker clients), judged by `openssl verify -purpose sslserver` and
 * by node:crypto's X509Certificate (SANs, host and IP matching). Time is frozen; OpenSSL verifies
 * at that instant.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync, X509Certificate } from 'node:crypto'
import { before, describe, it } from 'node:test'
import { MemoryKeyStore } from '../../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../../lib/adapters/memory/store.ts'
import { type CertAuthorities, loadOrCreateAuthorities } from '../../../lib/ca/authorities.ts'
import {
  issueServerCertificate,
  type ServerCertificateRequest,
} from '../../../lib/ca/issue-server-certificate.ts'
import { BACKDATE_MS } from '../../../lib/ca/issue-user-certificates.ts'
import { ManualClock } from '../../../lib/clock.ts'
import { cryptoRandom } from '../../../lib/random.ts'
import { opensslVerify } from '../../helpers/openssl.ts'

const NOW = new Date('2026-03-01T12:00:00Z')
const HOUR_MS = 3_600_000

async function authorities(clusterName: string): Promise<CertAuthorities> {
  const clock = new ManualClock(NOW)
  return loadOrCreateAuthorities({
    store: new MemoryStore({ clock }),
    keys: new MemoryKeyStore(),
    clusterName,
    clock,
    random: cryptoRandom,
  })
}

const serverKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })

function request(names: readonly string[], overrides: Partial<ServerCertificateRequest> = {}) {
  return {
    publicKey: serverKey.publicKey.export({ type: 'spki', format: 'der' }),
    names,
    now: NOW,
    notAfter: new Date(NOW.getTime() + HOUR_MS),
    ...overrides,
  }
}

describe('issueServerCertificate', () => {
  let cas: CertAuthorities
  let otherCas: CertAuthorities

  before(async () => {
    cas = await authorities('acme.example')
    otherCas = await authorities('other.example')
  })

  it('ok/openssl verify -purpose sslserver accepts it against the CA that signed it', async () => {
    const cert = await issueServerCertificate(cas.db, request(['db.acme.example']), cryptoRandom)

    const result = await opensslVerify({
      caPems: cas.db.trustedTlsPems,
      leafPem: cert.pem,
      purpose: 'sslserver',
      atTime: NOW,
    })

    assert.equal(result.ok, true, result.output)
  })

  it('fail/openssl verify refuses it against another CA', async () => {
    const cert = await issueServerCertificate(cas.db, request(['db.acme.example']), cryptoRandom)

    const result = await opensslVerify({
      caPems: otherCas.db.trustedTlsPems,
      leafPem: cert.pem,
      purpose: 'sslserver',
      atTime: NOW,
    })

    assert.equal(result.ok, false)
    assert.match(result.output, /unable to get local issuer certificate/)
  })

  it('ok/DNS, IPv4 and IPv6 names are written to the subjectAltName as given', async () => {
    const names = ['db.acme.example', '*.db.acme.example', '127.0.0.1', '::1', '2001:db8::8:800:200c:417a']

    const x = new X509Certificate((await issueServerCertificate(cas.db, request(names), cryptoRandom)).pem)

    // X509Certificate prints IPv6 addresses in full, upper case; DNS names come before addresses.
    assert.equal(
      x.subjectAltName,
      'DNS:db.acme.example, DNS:*.db.acme.example, IP Address:127.0.0.1, ' +
        'IP Address:0:0:0:0:0:0:0:1, IP Address:2001:DB8:0:0:8:800:200C:417A',
    )
    assert.equal(x.subject, 'CN=db.acme.example')
    assert.equal(x.checkHost('db.acme.example'), 'db.acme.example')
    assert.equal(x.checkHost('replica.db.acme.example'), '*.db.acme.example') // the name that matched
    assert.equal(x.checkIP('127.0.0.1'), '127.0.0.1')
    assert.equal(x.checkIP('::1'), '::1')
    assert.equal(x.checkIP('127.0.0.2'), undefined)
    assert.equal(x.checkHost('acme.example'), undefined)
  })

  it('ok/an IPv6 address with an embedded IPv4 tail keeps its value', async () => {
    const cert = await issueServerCertificate(cas.db, request(['::ffff:192.0.2.1']), cryptoRandom)

    const x = new X509Certificate(cert.pem)

    assert.equal(x.subjectAltName, 'IP Address:0:0:0:0:0:FFFF:C000:201')
  })

  it('ok/a serverAuth leaf, not a CA, issued by the CA, valid from now − backdate to notAfter', async () => {
    const notAfter = new Date(NOW.getTime() + 2 * HOUR_MS)
    const cert = await issueServerCertificate(
      cas.db,
      request(['db.acme.example'], { notAfter }),
      cryptoRandom,
    )

    const x = new X509Certificate(cert.pem)

    assert.equal(x.ca, false)
    assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1']) // extendedKeyUsage: serverAuth only
    assert.ok(x.checkIssued(cas.db.tls!.cert))
    assert.ok(x.verify(cas.db.tls!.cert.publicKey))
    assert.equal(new Date(x.validFrom).getTime(), NOW.getTime() - BACKDATE_MS)
    assert.equal(new Date(x.validTo).getTime(), notAfter.getTime())
    assert.ok(x.publicKey.equals(serverKey.publicKey))
    assert.ok(cert.der.equals(x.raw))
  })

  const misuse: ReadonlyArray<readonly [string, ServerCertificateRequest, RegExp]> = [
    ['no names', request([]), /at least one name/],
    ['an empty name', request(['']), /not an IP address nor a DNS name: ""/],
    ['a non-ASCII DNS name', request(['bücher.example']), /not an IP address nor a DNS name/],
    ['a name with a space', request(['db example']), /not an IP address nor a DNS name/],
    ['an IPv6 zone', request(['fe80::1%eth0']), /no zone/],
    ['notAfter at now', request(['db.acme.example'], { notAfter: NOW }), /notAfter must be after now/],
  ]
  for (const [name, req, message] of misuse) {
    it(`fail/${name} is a TypeError`, async () => {
      await assert.rejects(issueServerCertificate(cas.db, req, cryptoRandom), (err: unknown) => {
        assert.ok(err instanceof TypeError, String(err))
        assert.match(err.message, message)
        return true
      })
    })
  }

  it('fail/a CA without an X.509 key is a TypeError', async () => {
    await assert.rejects(
      issueServerCertificate(cas.jwt, request(['db.acme.example']), cryptoRandom),
      TypeError,
    )
  })
})
