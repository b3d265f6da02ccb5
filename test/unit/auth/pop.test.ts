import assert from 'node:assert/strict'
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
} from 'node:crypto'
import { before, beforeEach, describe, it } from 'node:test'
import { LocalSigner } from '../../../lib/adapters/local/signer.ts'
import { MemoryStore } from '../../../lib/adapters/memory/store.ts'
import { DEFAULT_MAX_SKEW_SECONDS, POP_TYP, type PopFailureReason } from '../../../lib/auth/pop/claims.ts'
import { createPopSigner } from '../../../lib/auth/pop/client.ts'
import {
  PopCertificateCache,
  type PopHttpRequest,
  type PopVerifyDeps,
  type TrustedCa,
  verifyPop,
} from '../../../lib/auth/pop/verify.ts'
import { signCertificate } from '../../../lib/ca/x509/certificate.ts'
import {
  authorityKeyIdentifier,
  basicConstraints,
  extendedKeyUsage,
  KeyUsage,
  keyIdentifier,
  keyUsage,
  subjectKeyIdentifier,
} from '../../../lib/ca/x509/extensions.ts'
import { encodeName, NameAttribute } from '../../../lib/ca/x509/name.ts'
import { ManualClock } from '../../../lib/clock.ts'
import { BadRequestError, UnauthenticatedError } from '../../../lib/errors.ts'
import type { Identity } from '../../../lib/identity/identity.ts'
import { sequenceRandom } from '../../../lib/random.ts'

const START = Date.UTC(2026, 0, 1)
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const URL_ = 'https://auth.example.com/v1/certs?kind=x509'
const BODY = new TextEncoder().encode('{"ttl":"1h"}')
const IDENTITY: Identity = {
  user: 'bot-ci',
  roles: ['bot-ci'],
  logins: [],
  botName: 'ci',
  generation: 1,
  renewable: true,
  disallowReissue: false,
}

interface Ca {
  readonly signer: LocalSigner
  readonly subject: Buffer
  readonly der: Uint8Array
}
interface Leaf {
  readonly key: KeyObject
  readonly der: Uint8Array
}

let serial = 1
async function mintCa(name: string, notAfter = START + 365 * 24 * HOUR): Promise<Ca> {
  const signer = LocalSigner.generate('ecdsa-p256-sha256')
  const subject = encodeName([[NameAttribute.commonName, name]])
  const der = await signCertificate(
    {
      serial: Uint8Array.of(serial++),
      issuer: subject,
      subject,
      notBefore: new Date(START - HOUR),
      notAfter: new Date(notAfter),
      publicKey: signer.publicKey,
      extensions: [
        basicConstraints(true),
        keyUsage([KeyUsage.keyCertSign, KeyUsage.cRLSign]),
        subjectKeyIdentifier(keyIdentifier(signer.publicKey)),
      ],
    },
    signer,
  )
  return { signer, subject, der }
}

async function mintLeaf(
  ca: Ca,
  type: 'ec' | 'ed25519',
  validity: { notBefore?: number; notAfter?: number } = {},
): Promise<Leaf> {
  const pair =
    type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519')
  const spki = pair.publicKey.export({ type: 'spki', format: 'der' })
  const der = await signCertificate(
    {
      serial: Uint8Array.of(serial++),
      issuer: ca.subject,
      subject: encodeName([
        [NameAttribute.commonName, 'bot-ci'],
        [NameAttribute.organization, 'bot-ci'],
      ]),
      notBefore: new Date(validity.notBefore ?? START - 5 * MINUTE),
      notAfter: new Date(validity.notAfter ?? START + HOUR),
      publicKey: spki,
      extensions: [
        basicConstraints(false),
        keyUsage([KeyUsage.digitalSignature]),
        extendedKeyUsage('clientAuth'),
        authorityKeyIdentifier(keyIdentifier(ca.signer.publicKey)),
      ],
    },
    ca.signer,
  )
  return { key: pair.privateKey, der }
}

const b64u = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
const sha256 = (data: Uint8Array | string, enc: 'hex' | 'base64url'): string =>
  createHash('sha256').update(data).digest(enc)

/** A hand-built token, for headers and claims the real client never produces. */
function forge(header: Record<string, unknown>, claims: Record<string, unknown>, key?: KeyObject): string {
  const input = `${b64u(header)}.${b64u(claims)}`
  if (key === undefined) return `PoP ${input}.`
  const sig =
    key.asymmetricKeyType === 'ec'
      ? nodeSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
      : nodeSign(null, Buffer.from(input), key)
  return `PoP ${input}.${sig.toString('base64url')}`
}

const goodClaims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  htm: 'POST',
  htu: URL_,
  bh: sha256(BODY, 'base64url'),
  iat: START / 1000,
  jti: 'AAAAAAAAAAAAAAAAAAAAAA',
  ...overrides,
})

describe('PoP', () => {
  let ca: Ca
  let otherCa: Ca
  let ecLeaf: Leaf
  let edLeaf: Leaf
  let forgedLeaf: Leaf
  let futureLeaf: Leaf
  let caKey: KeyObject
  let clock: ManualClock
  let store: MemoryStore
  let trusted: readonly TrustedCa[]
  let deps: PopVerifyDeps

  before(async () => {
    ca = await mintCa('credbroker user CA')
    // Same subject name as the real CA, different key: a forgery.
    otherCa = await mintCa('credbroker user CA')
    ecLeaf = await mintLeaf(ca, 'ec')
    edLeaf = await mintLeaf(ca, 'ed25519')
    forgedLeaf = await mintLeaf(otherCa, 'ec')
    futureLeaf = await mintLeaf(ca, 'ec', { notBefore: START + 10 * MINUTE })
    caKey = createPrivateKey(ca.signer.exportPkcs8Pem())
  })

  beforeEach(() => {
    clock = new ManualClock(START)
    store = new MemoryStore({ clock })
    trusted = [{ der: ca.der }]
    deps = {
      trustedCas: () => trusted,
      decodeIdentity: () => IDENTITY,
      store,
      clock,
      cache: new PopCertificateCache(),
    }
  })

  const signer = (leaf: Leaf, chain: Uint8Array[] = [leaf.der], c: ManualClock = clock) =>
    createPopSigner({ key: leaf.key, chain, clock: c, random: sequenceRandom(serial++) })
  const request = (
    authorization: string | undefined,
    over: Partial<PopHttpRequest> = {},
  ): PopHttpRequest => ({
    method: 'POST',
    url: URL_,
    headers: new Headers(authorization === undefined ? {} : { authorization }),
    body: BODY,
    ...over,
  })
  const signed = (leaf: Leaf, over: { method?: string; url?: string; body?: Uint8Array } = {}) =>
    signer(leaf).sign({ method: over.method ?? 'post', url: over.url ?? URL_, body: over.body ?? BODY })

  async function assertRejected(req: PopHttpRequest, reason: PopFailureReason): Promise<void> {
    await assert.rejects(verifyPop(req, deps), (err: unknown) => {
      assert.ok(err instanceof UnauthenticatedError, String(err))
      assert.equal(err.code, 'ERR_UNAUTHENTICATED')
      assert.equal(err.status, 401)
      assert.equal(err.details?.reason, reason, err.message)
      assert.match(err.message, /^proof of possession rejected: /)
      return true
    })
  }
  async function replayRecords(): Promise<number> {
    return (await store.list('pop_jti/')).items.length
  }

  describe('Function: verifyPop', () => {
    for (const [name, leafOf] of [
      ['ok/ES256', () => ecLeaf],
      ['ok/EdDSA', () => edLeaf],
    ] as const) {
      it(name, async () => {
        const leaf = leafOf()
        const header = await signed(leaf)

        const result = await verifyPop(request(header), deps)

        assert.deepEqual(result.identity, IDENTITY)
        assert.equal(result.fingerprint, sha256(leaf.der, 'hex'))
        assert.deepEqual(new Uint8Array(result.leaf.raw), new Uint8Array(leaf.der))
        const records = (await store.list('pop_jti/')).items
        assert.equal(records.length, 1)
        assert.equal(records[0]?.expires?.getTime(), START + (DEFAULT_MAX_SKEW_SECONDS + 1) * 1000)
      })
    }

    it('ok/leaf with its CA in x5c, plain-record headers, normalised URL, kid ignored', async () => {
      const pop = createPopSigner({ key: ecLeaf.key, chain: [ecLeaf.der, ca.der], clock })
      const header = await pop.sign({ method: 'GET', url: 'HTTPS://Auth.Example.com:443/v1/a/../certs?x=1' })

      const result = await verifyPop(
        {
          method: 'GET',
          url: 'https://auth.example.com/v1/certs?x=1',
          headers: { Authorization: header },
          body: new Uint8Array(0),
        },
        deps,
      )
      assert.equal(result.identity.user, 'bot-ci')

      const x5c = [Buffer.from(ecLeaf.der).toString('base64')]
      const withKid = forge({ alg: 'ES256', typ: POP_TYP, x5c, kid: 'whatever' }, goodClaims(), ecLeaf.key)
      await verifyPop(request(withKid), deps)
    })

    it('ok/a cached certificate survives a CA being added, not the issuing CA being removed', async () => {
      await verifyPop(request(await signed(ecLeaf)), deps)
      trusted = [{ der: otherCa.der }, { der: ca.der }]
      await verifyPop(request(await signed(ecLeaf)), deps)

      trusted = [{ der: otherCa.der }]
      await assertRejected(request(await signed(ecLeaf)), 'untrusted_certificate')
    })

    it('ok/a cached certificate is refused once its CA expires', async () => {
      const shortCa = await mintCa('short-lived CA', START + 30 * MINUTE)
      const leaf = await mintLeaf(shortCa, 'ec')
      trusted = [{ der: shortCa.der }]
      await verifyPop(request(await signed(leaf)), deps)

      clock.set(START + 31 * MINUTE)
      await assertRejected(request(await signed(leaf)), 'untrusted_certificate')
    })

    it('ok/a cached certificate is refused once it expires', async () => {
      await verifyPop(request(await signed(ecLeaf)), deps)
      clock.set(START + HOUR + 1000)
      await assertRejected(request(await signed(ecLeaf)), 'certificate_expired')
    })

    it('ok/iat exactly maxSkew old is accepted', async () => {
      const header = await signed(ecLeaf)
      clock.advance(DEFAULT_MAX_SKEW_SECONDS * 1000)
      await verifyPop(request(header), deps)
    })

    it('fail/replayed jti: the first use passes, the second fails', async () => {
      const header = await signed(ecLeaf)
      await verifyPop(request(header), deps)
      await assertRejected(request(header), 'replayed_request')
    })

    it('fail/decodeIdentity rejects the certificate; a programmer error propagates', async () => {
      deps = {
        ...deps,
        decodeIdentity: () => {
          throw new BadRequestError('no identity extension')
        },
      }
      await assertRejected(request(await signed(ecLeaf)), 'invalid_identity')
      deps = {
        ...deps,
        decodeIdentity: () => {
          throw new TypeError('bug')
        },
      }
      await assert.rejects(verifyPop(request(await signed(ecLeaf)), deps), TypeError)
    })

    const x5cOf = (leaf: Leaf) => [Buffer.from(leaf.der).toString('base64')]
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const failures: Array<[string, PopFailureReason, () => Promise<PopHttpRequest>]> = [
      ['fail/no header', 'missing_authorization', async () => request(undefined)],
      [
        'fail/wrong scheme',
        'unsupported_scheme',
        async () => request((await signed(ecLeaf)).replace(/^PoP/, 'Bearer')),
      ],
      ['fail/garbage token', 'malformed_token', async () => request('PoP not-a-jws')],
      ['fail/four parts', 'malformed_token', async () => request(`${await signed(ecLeaf)}.x`)],
      [
        'fail/header is not JSON',
        'malformed_token',
        async () => request(`PoP ${Buffer.from('nope').toString('base64url')}.e30.AA`),
      ],
      [
        'fail/wrong typ',
        'wrong_token_type',
        async () =>
          request(forge({ alg: 'ES256', typ: 'JWT', x5c: x5cOf(ecLeaf) }, goodClaims(), ecLeaf.key)),
      ],
      [
        'fail/alg none',
        'alg_not_allowed',
        async () => request(forge({ alg: 'none', typ: POP_TYP, x5c: x5cOf(ecLeaf) }, goodClaims())),
      ],
      [
        'fail/HS256',
        'alg_not_allowed',
        async () => request(`${forge({ alg: 'HS256', typ: POP_TYP, x5c: x5cOf(ecLeaf) }, goodClaims())}AAAA`),
      ],
      [
        'fail/embedded jwk header',
        'header_not_allowed',
        async () =>
          request(
            forge(
              {
                alg: 'ES256',
                typ: POP_TYP,
                x5c: x5cOf(ecLeaf),
                jwk: attacker.publicKey.export({ format: 'jwk' }),
              },
              goodClaims(),
              attacker.privateKey,
            ),
          ),
      ],
      [
        'fail/x5u header',
        'header_not_allowed',
        async () =>
          request(
            forge(
              { alg: 'ES256', typ: POP_TYP, x5c: x5cOf(ecLeaf), x5u: 'https://evil/' },
              goodClaims(),
              ecLeaf.key,
            ),
          ),
      ],
      [
        'fail/crit header',
        'header_not_allowed',
        async () =>
          request(
            forge(
              { alg: 'ES256', typ: POP_TYP, x5c: x5cOf(ecLeaf), crit: ['b64'], b64: false },
              goodClaims(),
              ecLeaf.key,
            ),
          ),
      ],
      [
        'fail/no x5c',
        'missing_certificate',
        async () => request(forge({ alg: 'ES256', typ: POP_TYP }, goodClaims(), ecLeaf.key)),
      ],
      [
        'fail/three x5c entries',
        'malformed_certificate',
        async () =>
          request(
            forge(
              { alg: 'ES256', typ: POP_TYP, x5c: [...x5cOf(ecLeaf), ...x5cOf(ecLeaf), ...x5cOf(ecLeaf)] },
              goodClaims(),
              ecLeaf.key,
            ),
          ),
      ],
      [
        'fail/x5c in base64url',
        'malformed_certificate',
        async () =>
          request(
            forge(
              { alg: 'ES256', typ: POP_TYP, x5c: [Buffer.from(ecLeaf.der).toString('base64url')] },
              goodClaims(),
              ecLeaf.key,
            ),
          ),
      ],
      [
        'fail/x5c is not a certificate',
        'malformed_certificate',
        async () => request(forge({ alg: 'ES256', typ: POP_TYP, x5c: ['AAAA'] }, goodClaims(), ecLeaf.key)),
      ],
      [
        'fail/certificate from another CA (forged)',
        'untrusted_certificate',
        async () => request(await signed(forgedLeaf)),
      ],
      [
        'fail/a CA certificate presented as the leaf',
        'not_a_leaf',
        async () =>
          request(
            await createPopSigner({ key: caKey, chain: [ca.der], clock }).sign({
              method: 'POST',
              url: URL_,
              body: BODY,
            }),
          ),
      ],
      [
        'fail/expired certificate',
        'certificate_expired',
        async () => {
          clock.set(START + HOUR + 1000)
          return request(await signed(ecLeaf))
        },
      ],
      [
        'fail/not-yet-valid certificate',
        'certificate_not_yet_valid',
        async () => request(await signed(futureLeaf)),
      ],
      [
        'fail/alg does not fit the certificate key',
        'key_alg_mismatch',
        async () =>
          request(forge({ alg: 'EdDSA', typ: POP_TYP, x5c: x5cOf(ecLeaf) }, goodClaims(), edLeaf.key)),
      ],
      [
        'fail/certificate whose key does not match the signing key',
        'bad_signature',
        async () =>
          request(
            forge({ alg: 'ES256', typ: POP_TYP, x5c: x5cOf(ecLeaf) }, goodClaims(), attacker.privateKey),
          ),
      ],
      [
        'fail/claims missing',
        'malformed_claims',
        async () =>
          request(forge({ alg: 'ES256', typ: POP_TYP, x5c: x5cOf(ecLeaf) }, { htm: 'POST' }, ecLeaf.key)),
      ],
      [
        'fail/method mismatch',
        'method_mismatch',
        async () => request(await signed(ecLeaf), { method: 'PUT' }),
      ],
      [
        'fail/url mismatch: other path',
        'url_mismatch',
        async () => request(await signed(ecLeaf), { url: 'https://auth.example.com/v1/admin?kind=x509' }),
      ],
      [
        'fail/url mismatch: other host',
        'url_mismatch',
        async () => request(await signed(ecLeaf), { url: 'https://other.example.com/v1/certs?kind=x509' }),
      ],
      [
        'fail/url mismatch: other query',
        'url_mismatch',
        async () => request(await signed(ecLeaf), { url: 'https://auth.example.com/v1/certs?kind=ssh' }),
      ],
      [
        'fail/body tampered after signing',
        'body_mismatch',
        async () => request(await signed(ecLeaf), { body: new TextEncoder().encode('{"ttl":"9h"}') }),
      ],
      [
        'fail/stale iat (server clock 2 minutes later)',
        'stale_timestamp',
        async () => {
          const header = await signed(ecLeaf)
          clock.advance(2 * MINUTE)
          return request(header)
        },
      ],
      [
        'fail/iat in the future beyond skew',
        'future_timestamp',
        async () => {
          const ahead = new ManualClock(START + 2 * MINUTE)
          return request(
            await signer(ecLeaf, [ecLeaf.der], ahead).sign({ method: 'POST', url: URL_, body: BODY }),
          )
        },
      ],
      [
        'fail/jti too short',
        'invalid_jti',
        async () =>
          request(
            forge({ alg: 'ES256', typ: POP_TYP, x5c: x5cOf(ecLeaf) }, goodClaims({ jti: 'abc' }), ecLeaf.key),
          ),
      ],
    ]
    for (const [name, reason, prepare] of failures) {
      it(name, async () => {
        const req = await prepare()
        await assertRejected(req, reason)
        assert.equal(await replayRecords(), 0, 'a rejected request must not write a replay record')
      })
    }
  })

  describe('Function: createPopSigner', () => {
    it('fail/programmer errors throw TypeError', () => {
      assert.throws(() => createPopSigner({ key: edLeaf.key, chain: [ecLeaf.der] }), /does not match/)
      assert.throws(() => createPopSigner({ key: ecLeaf.key, chain: [] }), TypeError)
      assert.throws(
        () => createPopSigner({ key: ecLeaf.key, chain: [ecLeaf.der, ca.der, ca.der] }),
        TypeError,
      )
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
      assert.throws(() => createPopSigner({ key: rsa, chain: [ecLeaf.der] }), /unsupported PoP key type/)
    })

    it('ok/every token has a fresh 128-bit jti', async () => {
      const pop = createPopSigner({ key: ecLeaf.key, chain: [ecLeaf.der], clock })
      const jtis = new Set<string>()
      for (let i = 0; i < 5; i++) {
        const token = (await pop.sign({ method: 'GET', url: URL_ })).split('.')[1] as string
        const claims = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
        assert.equal(claims.bh, sha256('', 'base64url'))
        assert.equal(claims.jti.length, 22)
        jtis.add(claims.jti)
      }
      assert.equal(jtis.size, 5)
    })
  })
})
