/**
 * SPIFFE workload identity outputs, checked by implementations that did not issue them:
 * JWT-SVIDs with `jose` against the JWKS the auth service publishes (wrong audience, expired and
 * foreign-key tokens refused); X.509-SVIDs with `openssl verify` against the output's trust
 * bundle and node:crypto for the SPIFFE-required shape (one URI SAN, CA:false, digitalSignature).
 * Plus the RBAC: a path no role's `spiffe` allows, or one a role denies, is refused.
 */
import assert from 'node:assert/strict'
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto'
import { beforeEach, describe, it } from 'node:test'
import { createLocalJWKSet, errors, type JSONWebKeySet, jwtVerify, SignJWT } from 'jose'
import { MemoryDestination } from '../../lib/adapters/memory/destination.ts'
import { addJoinToken } from '../../lib/auth/bots.ts'
import { type BotDeps, type OutputResult, runCycle } from '../../lib/bot/bot.ts'
import { validateBotConfig } from '../../lib/bot/config.ts'
import { silentLogger } from '../../lib/log.ts'
import { type AuthHarness, authHarness, BASE_URL } from '../helpers/auth-harness.ts'
import { opensslText, opensslVerify } from '../helpers/openssl.ts'

const HOUR = 3600_000
const TRUST_DOMAIN = 'test.local'

let h: AuthHarness

async function setUp(roleSpiffe: { allow: string[]; deny?: string[] }) {
  h = await authHarness()
  const resources = h.service.deps.resources
  await resources.create({
    kind: 'role',
    version: 'v1',
    metadata: { name: 'workload', labels: {} },
    spec: { allow: { spiffe: roleSpiffe.allow }, deny: { spiffe: roleSpiffe.deny ?? [] } },
  })
  await resources.create({
    kind: 'bot',
    version: 'v1',
    metadata: { name: 'wl', labels: {} },
    spec: { roles: ['workload'] },
  })
  return (await addJoinToken(h.service.deps, 'wl', 24 * HOUR)).token
}

/** Runs one bot cycle with the given outputs (memory destinations) and returns results and files. */
async function cycle(token: string, outputs: object[]) {
  const config = validateBotConfig(
    {
      version: 'v1',
      auth_server: 'http://127.0.0.1:3025',
      onboarding: { join_method: 'token', token },
      storage: { type: 'memory' },
      outputs: outputs.map((o) => ({ ...o, destination: { type: 'memory' } })),
    },
    { baseDir: '/' },
  ).config
  const destinations = new Map(config.outputs.map((o) => [o.name, new MemoryDestination({ label: o.name })]))
  const deps: BotDeps = {
    config,
    client: h.client,
    storage: new MemoryDestination({ label: 'storage' }),
    destinations,
    clock: h.clock,
    log: silentLogger,
  }
  const result = await runCycle(deps)
  const files = async (name: string) => {
    const all = await (destinations.get(name) as MemoryDestination).readAll()
    return new Map([...all].map(([k, v]) => [k, Buffer.from(v).toString('utf8')]))
  }
  return { outputs: result.outputs, files }
}

function okOutput(result: OutputResult | undefined) {
  assert.ok(result?.ok, result && !result.ok ? `${result.code}: ${result.message}` : 'no result')
  return result
}

async function publishedJwks(): Promise<JSONWebKeySet> {
  const res = await h.fetch(`${BASE_URL}/.well-known/jwks.json`)
  assert.equal(res.status, 200)
  return (await res.json()) as JSONWebKeySet
}

describe('workload-identity-jwt', () => {
  let token: string
  beforeEach(async () => {
    token = await setUp({ allow: ['/svc/*'] })
  })

  it('ok/a JWT-SVID verifies with jose against the published JWKS, with sub, aud and exp', async () => {
    const { outputs, files } = await cycle(token, [
      {
        type: 'workload-identity-jwt',
        name: 'jwt',
        path: '/svc/web',
        audiences: ['https://api.example.com'],
      },
    ])
    okOutput(outputs[0])
    const out = await files('jwt')
    const jwt = out.get('jwt_svid') ?? ''
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(await publishedJwks()), {
      audience: 'https://api.example.com',
      algorithms: ['ES256'],
      currentDate: h.clock.now(),
    })
    assert.equal(payload.sub, `spiffe://${TRUST_DOMAIN}/svc/web`)
    assert.deepEqual(payload.aud, ['https://api.example.com'])
    assert.equal(typeof payload.jti, 'string')
    assert.ok(payload.exp && payload.iat && payload.exp > payload.iat)
    assert.equal(protectedHeader.typ, 'JWT')
    // The bundle written next to the token is the published one.
    assert.deepEqual(JSON.parse(out.get('jwt_bundle.json') ?? ''), await publishedJwks())
  })

  it('fail/a wrong audience, an expired token and a token signed by another key are refused', async () => {
    const { files } = await cycle(token, [
      {
        type: 'workload-identity-jwt',
        name: 'jwt',
        path: '/svc/web',
        audiences: ['https://api.example.com'],
      },
    ])
    const jwt = (await files('jwt')).get('jwt_svid') ?? ''
    const jwks = createLocalJWKSet(await publishedJwks())
    await assert.rejects(
      jwtVerify(jwt, jwks, { audience: 'https://other.example.com', currentDate: h.clock.now() }),
      errors.JWTClaimValidationFailed,
    )
    await assert.rejects(
      jwtVerify(jwt, jwks, {
        audience: 'https://api.example.com',
        currentDate: new Date(h.clock.now().getTime() + 2 * HOUR),
      }),
      errors.JWTExpired,
    )
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const kid = (await publishedJwks()).keys[0]?.kid ?? ''
    const forged = await new SignJWT({ sub: `spiffe://${TRUST_DOMAIN}/svc/web` })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setAudience('https://api.example.com')
      .setIssuedAt(Math.floor(h.clock.now().getTime() / 1000))
      .setExpirationTime(Math.floor(h.clock.now().getTime() / 1000) + 300)
      .sign(privateKey)
    await assert.rejects(
      jwtVerify(forged, jwks, { audience: 'https://api.example.com', currentDate: h.clock.now() }),
      errors.JWSSignatureVerificationFailed,
    )
  })

  it('ok/the token lives as the output asks, at most as long as the bot identity allows', async () => {
    const { outputs, files } = await cycle(token, [
      {
        type: 'workload-identity-jwt',
        name: 'jwt',
        path: '/svc/web',
        audiences: ['a', 'b'],
        credential_ttl: '10m',
        renewal_interval: '5m',
      },
    ])
    const ok = okOutput(outputs[0])
    assert.equal(new Date(ok.notAfter).getTime() - h.clock.now().getTime(), 10 * 60_000)
    const jwt = (await files('jwt')).get('jwt_svid') ?? ''
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'))
    assert.deepEqual(payload.aud, ['a', 'b'])
  })
})

describe('workload-identity-x509', () => {
  let token: string
  beforeEach(async () => {
    token = await setUp({ allow: ['/svc/*'], deny: ['/svc/admin'] })
  })

  it('ok/an X.509-SVID with one URI SAN, verified by openssl against the written bundle', async () => {
    const { outputs, files } = await cycle(token, [
      { type: 'workload-identity-x509', name: 'svid', path: '/svc/web' },
    ])
    okOutput(outputs[0])
    const out = await files('svid')
    const svid = new X509Certificate(out.get('svid.pem') ?? '')
    assert.equal(svid.subjectAltName, `URI:spiffe://${TRUST_DOMAIN}/svc/web`)
    assert.equal(svid.ca, false)
    assert.deepEqual([...(svid.keyUsage ?? [])].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'])
    const text = await opensslText(out.get('svid.pem') ?? '')
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature\s/)
    assert.match(text, /CA:FALSE/)
    const key = createPrivateKey(out.get('svid.key') ?? '')
    assert.equal(svid.checkPrivateKey(key), true)
    assert.deepEqual(
      createPublicKey(key).export({ type: 'spki', format: 'der' }),
      svid.publicKey.export({ type: 'spki', format: 'der' }),
    )
    for (const purpose of ['sslclient', 'sslserver'] as const) {
      const verified = await opensslVerify({
        caPems: [out.get('bundle.pem') ?? ''],
        leafPem: out.get('svid.pem') ?? '',
        purpose,
        atTime: h.clock.now(),
      })
      assert.equal(verified.ok, true, verified.output)
    }
  })

  it('fail/a path no role allows, and a denied path, are ERR_ACCESS_DENIED; a bad path is refused', async () => {
    const { outputs } = await cycle(token, [
      { type: 'workload-identity-x509', name: 'other', path: '/db/main' },
      { type: 'workload-identity-x509', name: 'admin', path: '/svc/admin' },
      { type: 'workload-identity-jwt', name: 'jwt-admin', path: '/svc/admin', audiences: ['x'] },
    ])
    for (const result of outputs) {
      assert.ok(result && !result.ok, `${result?.output} should fail`)
      assert.equal(result.code, 'ERR_ACCESS_DENIED', result.message)
    }
    assert.match((outputs[0] as { message: string }).message, /no role allows SPIFFE path "\/db\/main"/)
    assert.match((outputs[1] as { message: string }).message, /denies SPIFFE path "\/svc\/admin"/)
    assert.throws(
      () =>
        validateBotConfig(
          {
            version: 'v1',
            auth_server: 'http://127.0.0.1:3025',
            onboarding: { join_method: 'token', token },
            storage: { type: 'memory' },
            outputs: [
              { type: 'workload-identity-x509', path: '/svc/../admin', destination: { type: 'memory' } },
            ],
          },
          { baseDir: '/' },
        ),
      /outputs\[0\]\.path/,
    )
  })
})
