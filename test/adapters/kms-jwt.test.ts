/**
 * An auth service whose CA keys are all in KMS (moto, SigV4 signature checking and IAM
 * authorisation on), used only through a least-privilege IAM user allowed exactly kms:Sign and
 * kms:GetPublicKey. Everything it issues is verified by implementations that did not issue it:
 * - JWT-SVIDs with jose's `jwtVerify` against the JWKS fetched over HTTP from
 *   `/.well-known/jwks.json` (`createRemoteJWKSet`), and with node:crypto against the public key
 *   KMS itself reports;
 * - an `identity` output's OpenSSH certificate with `ssh-keygen -L` (the signature is checked
 *   against the KMS-held ECDSA P-256 user SSH CA), and its X.509 certificate with node:crypto
 *   `X509Certificate#verify` against the user CA from `/v1/cas`.
 * Every certificate and token costs exactly one kms:Sign request, on its CA's key: the KMS
 * client's `send` is wrapped to record each SignCommand's KeyId.
 *
 * The service listens on 127.0.0.1 (the bot and jose reach it over real HTTP). Signing uses
 * messageType RAW: moto mishandles DIGEST (stack notes §12.7). Time is a ManualClock; moto does
 * not check request timestamps, so the SDK's real-time SigV4 dates are accepted.
 */
import assert from 'node:assert/strict'
import { createHash, createPublicKey, verify, X509Certificate } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { after, before, beforeEach, describe, it } from 'node:test'
import {
  CreateKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  ListKeysCommand,
  SignCommand,
} from '@aws-sdk/client-kms'
import { serve } from '@hono/node-server'
import { createRemoteJWKSet, errors, jwtVerify } from 'jose'
import type { KmsApi } from '../../lib/adapters/kms/client.ts'
import { KMS_KEY_STORE_IAM_ACTIONS, KmsKeyStore } from '../../lib/adapters/kms/key-store.ts'
import { MemoryDestination } from '../../lib/adapters/memory/destination.ts'
import { MemoryStore } from '../../lib/adapters/memory/store.ts'
import { addJoinToken } from '../../lib/auth/bots.ts'
import { type AuthService, createAuthService } from '../../lib/auth/service.ts'
import { AuthClient, type ClientIdentity } from '../../lib/bot/auth-client.ts'
import { type BotDeps, type OutputResult, runCycle } from '../../lib/bot/bot.ts'
import { validateBotConfig } from '../../lib/bot/config.ts'
import { generateClientKey } from '../../lib/bot/keys.ts'
import { publicKeyBlob } from '../../lib/ca/ssh/public-key.ts'
import { loadDocuments } from '../../lib/cli/load-documents.ts'
import { ManualClock } from '../../lib/clock.ts'
import { silentLogger } from '../../lib/log.ts'
import { cryptoRandom } from '../../lib/random.ts'
import { applyResources } from '../../lib/services/apply.ts'
import { type MotoServer, startMoto } from '../helpers/moto.ts'
import { sshKeygenList } from '../helpers/sshd.ts'

const CLUSTER = 'kms-jwt.test'
const LABELS = ['user-tls', 'user-ssh', 'host-tls', 'host-ssh', 'db-tls', 'jwt-jwt'] as const
type Label = (typeof LABELS)[number]
const HOUR = 3_600_000
const AUDIENCE = 'https://api.example.com'

let moto: MotoServer
/** KMS key id per CA key label, created with moto's admin credentials before auth was on. */
const caKeys = {} as Record<Label, string>
/** The least-privilege user's client, as the auth service uses it (unwrapped). */
let kms: KMSClient
let service: AuthService
let clock: ManualClock
let baseUrl: string
let closeServer: () => Promise<void>
/** The key ids of the SignCommands sent since the last {@link takeSigns}. */
let signs: string[] = []

/** The CA key labels of the Sign requests sent since the last call, sorted; resets the record. */
function takeSigns(): string[] {
  const byId = new Map(Object.entries(caKeys).map(([label, id]) => [id, label]))
  const labels = signs.map((id) => byId.get(id) ?? `unknown key ${id}`).sort()
  signs = []
  return labels
}

/** Passes every command to `inner`, recording the KeyId of each SignCommand. */
function countingSigns(inner: KmsApi): KmsApi {
  const send = (command: unknown) => {
    if (command instanceof SignCommand) signs.push(String(command.input.KeyId))
    return (inner.send as (c: unknown) => Promise<unknown>)(command)
  }
  return { send, destroy: () => {} } as unknown as KmsApi
}

async function kmsPublicKey(label: Label) {
  const out = await kms.send(new GetPublicKeyCommand({ KeyId: caKeys[label] }))
  assert.ok(out.PublicKey)
  return createPublicKey({ key: Buffer.from(out.PublicKey), format: 'der', type: 'spki' })
}

const spkiDer = (key: ReturnType<typeof createPublicKey>) => key.export({ type: 'spki', format: 'der' })

before(async () => {
  moto = await startMoto({ auth: true })
  const admin = new KMSClient({
    endpoint: moto.endpoint,
    region: moto.region,
    credentials: moto.adminCredentials,
  })
  try {
    for (const label of LABELS) {
      const out = await admin.send(
        new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: label }),
      )
      assert.ok(out.KeyMetadata?.KeyId)
      caKeys[label] = out.KeyMetadata.KeyId
    }
  } finally {
    admin.destroy()
  }
  const credentials = await moto.createIamUser('auth-function', {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: [...KMS_KEY_STORE_IAM_ACTIONS], Resource: '*' }],
  })
  await moto.enableAuth()
  kms = new KMSClient({ endpoint: moto.endpoint, region: moto.region, credentials })

  clock = new ManualClock(Date.UTC(2026, 10, 22, 12))
  service = await createAuthService({
    clusterName: CLUSTER,
    publicAddr: 'http://127.0.0.1',
    store: new MemoryStore({ clock }),
    keys: new KmsKeyStore({ client: countingSigns(kms), keys: caKeys, messageType: 'RAW' }),
    clock,
    random: cryptoRandom,
    log: silentLogger,
  })
  const resources = service.deps.resources
  await applyResources(resources, loadDocuments(resolve('examples/cluster')))
  await resources.create({
    kind: 'role',
    version: 'v1',
    metadata: { name: 'workload', labels: {} },
    spec: { allow: { spiffe: ['/svc/*'] } },
  })
  await resources.create({
    kind: 'bot',
    version: 'v1',
    metadata: { name: 'wl', labels: {} },
    spec: { roles: ['workload', 'access'] },
  })
  const server = serve({ fetch: service.app.fetch, hostname: '127.0.0.1', port: 0 })
  await new Promise<void>((ready) => server.once('listening', ready))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  closeServer = () =>
    new Promise<void>((done) => {
      server.close(() => done())
      ;(server as { closeAllConnections?: () => void }).closeAllConnections?.()
    })
})

after(async () => {
  await closeServer?.()
  kms?.destroy()
  await moto?.stop()
})

beforeEach(() => {
  signs = [] // CA creation signed the self-signed CA certificates; earlier tests signed too
})

const client = () => new AuthClient({ baseUrl, clock })

/** A bot `wl` identity joined with a fresh token. */
async function joined(): Promise<ClientIdentity> {
  const { token } = await addJoinToken(service.deps, 'wl', HOUR)
  const key = generateClientKey()
  const res = await client().join(token, key.publicPem, 3600)
  return { key: key.privateKey, tlsCertPem: res.tls_cert }
}

const jwks = () => createRemoteJWKSet(new URL(`${baseUrl}/.well-known/jwks.json`))

describe('CA keys in KMS on moto, least-privilege user, SigV4 checked', () => {
  it('ok/auth is really on: the auth function user may not call anything but kms:Sign and kms:GetPublicKey', async () => {
    const denied = async (command: CreateKeyCommand | ListKeysCommand) => {
      const err = await kms.send(command as CreateKeyCommand).then(
        () => assert.fail(`${command.constructor.name} should be denied`),
        (e: unknown) => e as { $metadata?: { httpStatusCode?: number } },
      )
      assert.equal(err.$metadata?.httpStatusCode, 403)
    }
    await denied(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))
    await denied(new ListKeysCommand({}))
  })

  it('ok/POST /v1/svid/jwt: one kms:Sign per JWT-SVID; jose verifies each against the JWKS over HTTP', async () => {
    const as = await joined()
    takeSigns()
    const c = client()

    const paths = ['/svc/web', '/svc/api', '/svc/web']
    const tokens: string[] = []
    for (const path of paths) {
      const svid = await c.jwtSvid(as, { roles: ['workload'], path, audiences: [AUDIENCE], ttlSeconds: 600 })
      tokens.push(svid.token)
      assert.deepEqual(takeSigns(), ['jwt-jwt'], `one Sign on the JWT CA key for ${path}`)
    }

    const keySet = jwks()
    for (const [i, token] of tokens.entries()) {
      const { payload, protectedHeader } = await jwtVerify(token, keySet, {
        algorithms: ['ES256'],
        audience: AUDIENCE,
        currentDate: clock.now(),
      })
      assert.equal(payload.sub, `spiffe://${CLUSTER}${paths[i]}`)
      assert.deepEqual(payload.aud, [AUDIENCE])
      assert.equal(payload.exp, Math.floor(clock.now().getTime() / 1000) + 600)
      assert.equal(protectedHeader.alg, 'ES256')
    }
    assert.equal(new Set(tokens).size, tokens.length, 'each token is its own (jti)')
    // The published key is the KMS key, and the token's raw r||s signature verifies with it.
    const published = (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as { keys: object[] }
    assert.equal(published.keys.length, 1)
    const jwk = createPublicKey({ key: published.keys[0] as never, format: 'jwk' })
    const kmsKey = await kmsPublicKey('jwt-jwt')
    assert.deepEqual(spkiDer(jwk), spkiDer(kmsKey))
    const [header, claims, signature] = (tokens[0] ?? '').split('.')
    const raw = Buffer.from(signature ?? '', 'base64url')
    assert.equal(raw.length, 64, 'JOSE ES256 signatures are raw r||s, not DER')
    const input = Buffer.from(`${header}.${claims}`)
    assert.equal(verify('sha256', input, { key: kmsKey, dsaEncoding: 'ieee-p1363' }, raw), true)
    assert.equal(takeSigns().length, 0, 'verifying signs nothing')
  })

  it('fail/a JWT-SVID with a changed claim, or past its expiry, is refused by jose', async () => {
    const as = await joined()
    const svid = await client().jwtSvid(as, {
      roles: ['workload'],
      path: '/svc/web',
      audiences: [AUDIENCE],
      ttlSeconds: 600,
    })
    const [header, claims, signature] = svid.token.split('.')
    const changed = JSON.parse(Buffer.from(claims ?? '', 'base64url').toString('utf8'))
    changed.sub = `spiffe://${CLUSTER}/svc/admin`
    const forged = `${header}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}.${signature}`
    const keySet = jwks()
    await assert.rejects(
      jwtVerify(forged, keySet, { audience: AUDIENCE, currentDate: clock.now() }),
      errors.JWSSignatureVerificationFailed,
    )
    await assert.rejects(
      jwtVerify(svid.token, keySet, {
        audience: AUDIENCE,
        currentDate: new Date(clock.now().getTime() + HOUR),
      }),
      errors.JWTExpired,
    )
  })

  it('ok/POST /v1/certs: exactly one kms:Sign for the X.509 and one for the SSH certificate', async () => {
    const as = await joined()
    assert.deepEqual(takeSigns(), ['user-ssh', 'user-tls'], 'the join: one X.509 and one SSH certificate')
    const c = client()
    for (let i = 0; i < 3; i++) {
      const key = generateClientKey()
      const issued = await c.certs(as, { publicKeyPem: key.publicPem, roles: ['access'], ttlSeconds: 600 })
      assert.ok(issued.ssh_cert)
      assert.deepEqual(takeSigns(), ['user-ssh', 'user-tls'])
    }
  })

  it('ok/identity and workload-identity-jwt outputs: ssh-keygen -L and node:crypto accept what the KMS CAs signed', async () => {
    const { token } = await addJoinToken(service.deps, 'wl', HOUR)
    const { outputs, files } = await cycle(token, [
      { type: 'identity', name: 'id', roles: ['access'] },
      { type: 'workload-identity-jwt', name: 'jwt', path: '/svc/web', audiences: [AUDIENCE] },
    ])
    for (const result of outputs) okOutput(result)
    // The bot's join (X.509 + SSH), the identity output (X.509 + SSH), the JWT-SVID: five
    // credentials, five Sign requests, each on its own CA's key.
    assert.deepEqual(takeSigns(), ['jwt-jwt', 'user-ssh', 'user-ssh', 'user-tls', 'user-tls'])

    const cas = await client().cas()
    const id = await files('id')
    // X.509: verified with node:crypto against the user CA from /v1/cas, whose key is KMS's.
    assert.equal(cas.tls.user.length, 1)
    const caCert = new X509Certificate(cas.tls.user[0] ?? '')
    assert.deepEqual(spkiDer(caCert.publicKey), spkiDer(await kmsPublicKey('user-tls')))
    const leaf = new X509Certificate(id.get('tlscert') ?? '')
    assert.equal(leaf.checkIssued(caCert), true)
    assert.equal(leaf.verify(caCert.publicKey), true)
    assert.equal(leaf.verify(new X509Certificate(cas.tls.host[0] ?? '').publicKey), false)
    assert.equal(id.get('credbroker-user-ca.crt'), cas.tls.user.join(''))
    // SSH: ssh-keygen -L checks the CA signature (it fails otherwise); the CA is the KMS key.
    const sshCa = await kmsPublicKey('user-ssh')
    const fingerprint = createHash('sha256').update(publicKeyBlob(sshCa)).digest('base64').replace(/=+$/, '')
    const listing = await sshKeygenList(id.get('key-cert.pub') ?? '')
    assert.ok(
      listing.includes(`Signing CA: ECDSA SHA256:${fingerprint} (using ecdsa-sha2-nistp256)`),
      listing,
    )
    assert.match(listing, /Type: ecdsa-sha2-nistp256-cert-v01@openssh.com user certificate/)
    assert.match(listing, /Principals: \n\s+alice\n\s+credbroker\n/)
    assert.equal(cas.ssh.user[0]?.split(' ')[1], publicKeyBlob(sshCa).toString('base64'))
    // JWT: the output's token against the JWKS the service publishes.
    const jwt = await files('jwt')
    const { payload } = await jwtVerify(jwt.get('jwt_svid') ?? '', jwks(), {
      algorithms: ['ES256'],
      audience: AUDIENCE,
      currentDate: clock.now(),
    })
    assert.equal(payload.sub, `spiffe://${CLUSTER}/svc/web`)
  })
})

/** Runs one bot cycle with the given outputs (memory destinations) over HTTP. */
async function cycle(token: string, outputs: object[]) {
  const config = validateBotConfig(
    {
      version: 'v1',
      auth_server: baseUrl,
      onboarding: { join_method: 'token', token },
      storage: { type: 'memory' },
      outputs: outputs.map((o) => ({ ...o, destination: { type: 'memory' } })),
    },
    { baseDir: '/' },
  ).config
  const destinations = new Map(config.outputs.map((o) => [o.name, new MemoryDestination({ label: o.name })]))
  const deps: BotDeps = {
    config,
    client: client(),
    storage: new MemoryDestination({ label: 'storage' }),
    destinations,
    clock,
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
}
