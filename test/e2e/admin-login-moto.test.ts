/**
 * Administrator login by AWS IAM against moto with SigV4 signature checking on.
 *
 * Set-up, as on AWS: IAM user `operator` may assume `platform-admin` (on the auth service's list)
 * and `developer` (not on it). The auth service forwards each signed GetCallerIdentity to moto
 * (its STS transport maps the regional host to moto and keeps the signed Host header), so STS
 * itself vouches for every caller. The API is called through `app.request`, except for the
 * `loginCommand` case, which talks to a second service (same moto, same list) served on 127.0.0.1
 * and addressed as such: a signed login names the origin of the service it is for.
 */
import assert from 'node:assert/strict'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { serve } from '@hono/node-server'
import { MemoryKeyStore } from '../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../lib/adapters/memory/store.ts'
import type { AdminLoginResponse } from '../../lib/auth/admin-login.ts'
import { loginWithIam } from '../../lib/auth/admin-login-client.ts'
import { type AuthService, createAuthService } from '../../lib/auth/service.ts'
import { AuthClient, type ClientIdentity, type Fetch } from '../../lib/bot/auth-client.ts'
import { type AwsCredentials, signGetCallerIdentity } from '../../lib/bot/iam-signer.ts'
import { loginCommand } from '../../lib/cli/commands/login.ts'
import { loadDocuments } from '../../lib/cli/load-documents.ts'
import { UsageError } from '../../lib/cli/usage-error.ts'
import { ManualClock } from '../../lib/clock.ts'
import { isBrokerError } from '../../lib/errors.ts'
import { CHALLENGE_TTL_MS } from '../../lib/join/iam/challenge.ts'
import { createNodeStsTransport } from '../../lib/join/iam/transport.ts'
import { silentLogger } from '../../lib/log.ts'
import { cryptoRandom } from '../../lib/random.ts'
import type { Role } from '../../lib/resources/types.ts'
import { loadAuthLambdaConfig } from '../../lib/serverless/auth-config.ts'
import { type AuthLambdaHandler, createAuthLambdaHandler } from '../../lib/serverless/auth-lambda.ts'
import { applyResources } from '../../lib/services/apply.ts'
import { newKey } from '../helpers/auth-harness.ts'
import { assumeRole, createRole } from '../helpers/iam-roles.ts'
import { type AccessKey, MOTO_ACCOUNT_ID, type MotoServer, startMoto } from '../helpers/moto.ts'
import { opensslVerify } from '../helpers/openssl.ts'

const BASE_URL = 'http://auth.test'
const AUDIENCE = new URL(BASE_URL).origin
const REGION = 'us-east-1'
const HOUR = 3600_000
const ADMIN_ROLE_ARN = `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/platform-admin`
const ADMIN_USER = `platform-admin@${MOTO_ACCOUNT_ID}`
const JOIN_TOKEN = 'iam-bots'

let moto: MotoServer
let operatorKeys: AccessKey
let adminCreds: AwsCredentials
let developerCreds: AwsCredentials
let clock: ManualClock
let service: AuthService
let client: AuthClient
const fetchApp = async (url: string, init?: RequestInit) => service.app.request(url, init)

before(async () => {
  moto = await startMoto({ auth: true })
  operatorKeys = await moto.createIamUser('operator', {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
  })
  // Neither role needs any permission: GetCallerIdentity is always allowed.
  const nothing = [{ Effect: 'Deny', Action: 's3:*', Resource: '*' }]
  await createRole(moto, 'platform-admin', 'operator', nothing)
  await createRole(moto, 'developer', 'operator', nothing)
  await moto.enableAuth()
  adminCreds = await assumeRole(moto, operatorKeys, 'platform-admin', 'jane')
  developerCreds = await assumeRole(moto, operatorKeys, 'developer', 'jane')

  // Starts at real time: the CLI signs with the system clock (moto does not check the skew).
  clock = new ManualClock(Date.now())
  service = await startService(BASE_URL)
  await service.deps.resources.create({
    kind: 'token',
    version: 'v1',
    metadata: { name: JOIN_TOKEN, labels: {} },
    spec: {
      join_method: 'iam',
      bot_name: 'example',
      allow: [{ aws_arn: 'arn:aws:sts::*:assumed-role/*/*' }],
    },
  })
  client = new AuthClient({ baseUrl: BASE_URL, fetch: fetchApp, clock })
})

after(async () => {
  await moto?.stop()
})

/** An auth service addressed as `publicAddr`, asking moto's STS, with `platform-admin` on its list. */
async function startService(publicAddr: string): Promise<AuthService> {
  const started = await createAuthService({
    clusterName: 'test.local',
    publicAddr,
    store: new MemoryStore({ clock }),
    keys: new MemoryKeyStore(),
    clock,
    random: cryptoRandom,
    log: silentLogger,
    iam: {
      transport: createNodeStsTransport({
        endpointOverrides: new Map([[`sts.${REGION}.amazonaws.com`, new URL(moto.endpoint)]]),
      }),
      admins: [{ arn: ADMIN_ROLE_ARN, roles: ['admin'] }],
    },
  })
  await applyResources(started.deps.resources, loadDocuments(resolve('examples/cluster')))
  return started
}

/** POSTs JSON to the app; the parsed body and status. */
async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetchApp(`${BASE_URL}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

/** Signs for `audience` (this service's origin unless given; `null`: no audience header). */
async function signedFor(challenge: string, credentials: AwsCredentials, audience: string | null = AUDIENCE) {
  return signGetCallerIdentity({
    challenge,
    ...(audience !== null && { audience }),
    region: REGION,
    credentials: async () => credentials,
    clock,
  })
}

/** A fresh admin-login challenge, signed with `credentials` (for `audience`, see {@link signedFor}). */
async function signedLogin(credentials: AwsCredentials, audience: string | null = AUDIENCE) {
  const { status, body } = await post('/v1/admin/login/iam/challenge', {})
  assert.equal(status, 200, JSON.stringify(body))
  return signedFor(String(body.challenge), credentials, audience)
}

async function login(credentials: AwsCredentials, ttlSeconds?: number) {
  const key = newKey()
  const sts = await signedLogin(credentials)
  const res = await post('/v1/admin/login/iam', {
    public_key: key.publicPem,
    ...(ttlSeconds !== undefined && { ttl_seconds: ttlSeconds }),
    sts_request: sts,
  })
  const identity: ClientIdentity | undefined =
    res.status === 200 ? { key: key.key, tlsCertPem: String(res.body.tls_cert) } : undefined
  return { ...res, identity, sts, key }
}

async function auditEvents(): Promise<Record<string, unknown>[]> {
  const page = await service.deps.store.list('audit/', { limit: 1000 })
  return page.items
    .map((item) => JSON.parse(item.value) as Record<string, unknown>)
    .filter((e) => e.type === 'admin.login')
}

const lifetimeMs = (body: Record<string, unknown>) =>
  Date.parse(String(body.not_after)) - clock.now().getTime()

describe('e2e: administrator login by IAM against moto (signature checking on)', () => {
  it('ok/an allowed role logs in, and its identity lists roles on the admin API', async () => {
    const res = await login(adminCreds)
    assert.equal(res.status, 200, JSON.stringify(res.body))
    const issued = res.body as unknown as AdminLoginResponse
    assert.equal(issued.aws_arn, `arn:aws:sts::${MOTO_ACCOUNT_ID}:assumed-role/platform-admin/jane`)
    assert.equal(issued.identity.user, ADMIN_USER)
    assert.deepEqual(issued.identity.roles, ['admin'])
    assert.equal(issued.identity.renewable, false)
    assert.equal(issued.identity.disallow_reissue, true)
    assert.equal(lifetimeMs(res.body), HOUR, 'default TTL 1h')

    assert.ok(res.identity)
    const roles = await client.request<{ items: Role[] }>(res.identity, 'GET', '/v1/resources/role')
    assert.ok(roles.items.some((r) => r.metadata.name === 'admin'))
    // The certificate chains to the user CA for a real TLS client.
    const verified = await opensslVerify({
      caPems: service.deps.cas.user.trustedTlsPems,
      leafPem: issued.tls_cert,
      purpose: 'sslclient',
      atTime: clock.now(),
    })
    assert.equal(verified.ok, true, verified.output)
  })

  it('fail/principals not on the list get one 403 that names nothing', async () => {
    const developer = await login(developerCreds)
    const user = await login(operatorKeys)
    for (const res of [developer, user]) {
      assert.equal(res.status, 403)
      assert.equal(res.body.code, 'ERR_IAM_NOT_ALLOWED')
    }
    assert.equal(developer.body.message, user.body.message, 'the same words whoever asks')
    const message = String(developer.body.message)
    for (const secret of ['platform-admin', 'arn:', MOTO_ACCOUNT_ID, 'admin"'])
      assert.ok(!message.includes(secret), `${message} mentions ${secret}`)
    assert.deepEqual(Object.keys(developer.body).sort(), ['code', 'message'])
  })

  it('fail/a request signed with a wrong secret is refused by STS itself', async () => {
    const forged = await login({ ...adminCreds, secretAccessKey: 'not-the-secret' })
    assert.deepEqual([forged.status, forged.body.code], [401, 'ERR_IAM_STS_REJECTED'])
  })

  it('fail/a replayed signed request: its challenge was used', async () => {
    const first = await login(adminCreds)
    assert.equal(first.status, 200)
    const replay = await post('/v1/admin/login/iam', {
      public_key: newKey().publicPem,
      sts_request: first.sts,
    })
    assert.deepEqual([replay.status, replay.body.code], [401, 'ERR_IAM_BAD_CHALLENGE'])
  })

  it('fail/re-targeted requests: join ↔ admin login, another host', async () => {
    // A bot's join request (challenge bound to a join token) is no administrator login…
    const join = await client.iamChallenge(JOIN_TOKEN)
    const joinSigned = await signedFor(join.challenge, adminCreds)
    const asLogin = await post('/v1/admin/login/iam', {
      public_key: newKey().publicPem,
      sts_request: joinSigned,
    })
    assert.deepEqual([asLogin.status, asLogin.body.code], [401, 'ERR_IAM_BAD_CHALLENGE'])
    // …and an administrator's signed login is no join.
    const loginSigned = await signedLogin(adminCreds)
    const asJoin = await post('/v1/join/iam', {
      token: JOIN_TOKEN,
      public_key: newKey().publicPem,
      sts_request: loginSigned,
    })
    assert.deepEqual([asJoin.status, asJoin.body.code], [401, 'ERR_IAM_BAD_CHALLENGE'])
    // A signed request pointed at a host of the caller's choosing is refused before it is sent.
    const elsewhere = await signedLogin(adminCreds)
    const redirected = await post('/v1/admin/login/iam', {
      public_key: newKey().publicPem,
      sts_request: { ...elsewhere, url: 'https://sts.attacker.example/' },
    })
    assert.deepEqual([redirected.status, redirected.body.code], [400, 'ERR_IAM_BAD_HOST'])
  })

  it('fail/a login signed for another auth service, or for none, is refused before STS is asked', async () => {
    const refused = async (sts: Awaited<ReturnType<typeof signedFor>>) =>
      post('/v1/admin/login/iam', { public_key: newKey().publicPem, sts_request: sts })
    // Another stage's origin: what a relaying server would have the operator sign.
    const staging = await refused(await signedLogin(adminCreds, 'https://auth.staging.example'))
    assert.deepEqual([staging.status, staging.body.code], [400, 'ERR_IAM_BAD_HEADERS'])
    assert.equal(
      staging.body.message,
      `the signed request names auth service "https://auth.staging.example"; this one is ${AUDIENCE}`,
    )
    // Same host, other scheme or port: another origin.
    for (const other of ['https://auth.test', 'http://auth.test:8080', `${AUDIENCE}/`]) {
      const res = await refused(await signedLogin(adminCreds, other))
      assert.deepEqual([res.status, res.body.code], [400, 'ERR_IAM_BAD_HEADERS'], other)
    }
    const none = await refused(await signedLogin(adminCreds, null))
    assert.deepEqual([none.status, none.body.code], [400, 'ERR_IAM_BAD_HEADERS'])
    assert.match(
      String(none.body.message),
      /does not name the auth service it is for \(x-credbroker-audience\)/,
    )
    // Present but added after signing: STS would vouch for the request without it.
    const unsigned = await signedLogin(adminCreds, null)
    const added = await refused({
      ...unsigned,
      headers: { ...unsigned.headers, 'x-credbroker-audience': AUDIENCE },
    })
    assert.deepEqual([added.status, added.body.code], [400, 'ERR_IAM_BAD_HEADERS'])
    assert.equal(added.body.message, 'x-credbroker-audience is not in SignedHeaders')
    // Signed for staging, rewritten to this origin afterwards: STS no longer vouches for it.
    const tampered = await signedLogin(adminCreds, 'https://auth.staging.example')
    const rewritten = await refused({
      ...tampered,
      headers: { ...tampered.headers, 'x-credbroker-audience': AUDIENCE },
    })
    assert.deepEqual([rewritten.status, rewritten.body.code], [401, 'ERR_IAM_STS_REJECTED'])
  })

  it('fail/a server that relays this service to the operator gets nothing it can use here', async () => {
    // The operator logs in to https://auth.staging.example, which relays every call to this
    // service: the challenge is this service's, but the signature names the staging origin.
    const relay: Fetch = async (input, init) =>
      fetchApp(input.replace('https://auth.staging.example', BASE_URL), init)
    await assert.rejects(
      loginWithIam({
        baseUrl: 'https://auth.staging.example',
        fetch: relay,
        publicKeyPem: newKey().publicPem,
        credentials: async () => adminCreds,
        region: REGION,
        clock,
      }),
      {
        code: 'ERR_IAM_BAD_HEADERS',
        status: 400,
        message: /names auth service "https:\/\/auth\.staging\.example"/,
      },
    )
  })

  it('ok/a bot join is bound by the same check: signed for this service it joins, for another it is refused', async () => {
    const join = async (audience: string) =>
      post('/v1/join/iam', {
        token: JOIN_TOKEN,
        public_key: newKey().publicPem,
        sts_request: await signedFor((await client.iamChallenge(JOIN_TOKEN)).challenge, adminCreds, audience),
      })
    const here = await join(AUDIENCE)
    assert.equal(here.status, 200, JSON.stringify(here.body))
    const elsewhere = await join('https://anything.example')
    assert.deepEqual([elsewhere.status, elsewhere.body.code], [400, 'ERR_IAM_BAD_HEADERS'])
    assert.match(
      String(elsewhere.body.message),
      /^the signed join request names auth service "https:\/\/anything\.example"/,
    )
  })

  it('fail/an expired challenge', async () => {
    const sts = await signedLogin(adminCreds)
    clock.advance(CHALLENGE_TTL_MS + 1000)
    const late = await post('/v1/admin/login/iam', { public_key: newKey().publicPem, sts_request: sts })
    assert.deepEqual([late.status, late.body.code], [401, 'ERR_IAM_BAD_CHALLENGE'])
  })

  it('fail/a lock on the administrator user or on its role refuses the login', async () => {
    for (const target of [{ user: ADMIN_USER }, { role: 'admin' }]) {
      const lock = await service.deps.resources.create({
        kind: 'lock',
        version: 'v1',
        metadata: { name: 'stop-admins', labels: {} },
        spec: { target, message: 'incident 42' },
      })
      const res = await login(adminCreds)
      assert.deepEqual([res.status, res.body.code], [403, 'ERR_ACCESS_DENIED'])
      assert.match(String(res.body.message), /incident 42/)
      await service.deps.resources.delete('lock', lock.metadata.name)
    }
    assert.equal((await login(adminCreds)).status, 200, 'allowed again once the lock is gone')
  })

  it('ok/the TTL is the one asked for, clamped to 12h', async () => {
    const short = await login(adminCreds, 2 * 3600)
    assert.equal(lifetimeMs(short.body), 2 * HOUR)
    const long = await login(adminCreds, 3 * 24 * 3600)
    assert.equal(long.status, 200)
    assert.equal(lifetimeMs(long.body), 12 * HOUR)
    // The certificate itself says so (X.509 times have whole seconds).
    const validTo = Date.parse(new X509Certificate(String(long.body.tls_cert)).validTo)
    assert.ok(Math.abs(validTo - Date.parse(String(long.body.not_after))) < 1000)
  })

  it('fail/the identity is neither renewable nor able to reissue', async () => {
    const { identity } = await login(adminCreds)
    assert.ok(identity)
    await assert.rejects(client.renew(identity, newKey().publicPem, 3600), {
      code: 'ERR_ACCESS_DENIED',
      status: 403,
      message: 'only a renewable bot identity can be renewed',
    })
    await assert.rejects(
      client.certs(identity, { publicKeyPem: newKey().publicPem, roles: ['admin'], ttlSeconds: 600 }),
      {
        code: 'ERR_ACCESS_DENIED',
        status: 403,
      },
    )
  })

  it('ok/every attempt is audited, without secret material', async () => {
    const events = await auditEvents()
    const ok = events.filter((e) => e.success === true)
    const refused = events.filter((e) => e.success === false)
    assert.ok(ok.length > 0 && refused.length > 0)
    assert.ok(ok.every((e) => e.user === ADMIN_USER && e.aws_arn !== undefined && e.serial !== undefined))
    const codes = new Set(refused.map((e) => e.code))
    for (const code of [
      'ERR_IAM_NOT_ALLOWED',
      'ERR_IAM_BAD_CHALLENGE',
      'ERR_IAM_STS_REJECTED',
      'ERR_ACCESS_DENIED',
    ])
      assert.ok(codes.has(code), `a refusal with ${code} is audited`)
    // Several refusals share one instant of the frozen clock, so their order is not the order made.
    const notAllowed = refused.filter((e) => e.code === 'ERR_IAM_NOT_ALLOWED').map((e) => e.aws_arn)
    assert.ok(
      notAllowed.includes(`arn:aws:sts::${MOTO_ACCOUNT_ID}:assumed-role/developer/jane`),
      `the refused caller's ARN is audited: ${notAllowed.join(', ')}`,
    )
    const text = JSON.stringify(events)
    for (const secret of [
      adminCreds.secretAccessKey,
      adminCreds.sessionToken ?? '',
      'Signature=',
      'PRIVATE KEY',
    ])
      assert.ok(!text.includes(secret), 'no secret material in audit events')
  })

  it('ok/the client library logs in through the same routes', async () => {
    const key = newKey()
    const { issued, userCaPems } = await loginWithIam({
      baseUrl: BASE_URL,
      fetch: fetchApp,
      publicKeyPem: key.publicPem,
      credentials: async () => adminCreds,
      region: REGION,
      clock,
    })
    assert.equal(issued.identity.user, ADMIN_USER)
    assert.deepEqual(userCaPems, service.deps.cas.user.trustedTlsPems)
    await assert.rejects(
      loginWithIam({
        baseUrl: BASE_URL,
        fetch: fetchApp,
        publicKeyPem: key.publicPem,
        credentials: async () => developerCreds,
        region: REGION,
        clock,
      }),
      (err: unknown) => isBrokerError(err) && err.code === 'ERR_IAM_NOT_ALLOWED' && err.status === 403,
    )
  })
})

/** Sends each request to the auth Lambda handler as a Function URL event, as AWS does. */
function functionUrlFetch(handler: AuthLambdaHandler): Fetch {
  return async (input, init) => {
    const url = new URL(input)
    const method = init?.method ?? 'GET'
    const result = await handler({
      version: '2.0',
      routeKey: '$default',
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      requestContext: {
        accountId: 'anonymous',
        apiId: 'auth',
        domainName: 'auth.lambda-url.us-east-1.on.aws',
        domainPrefix: 'auth',
        http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '203.0.113.1', userAgent: 't' },
        requestId: 'r',
        routeKey: '$default',
        stage: '$default',
        time: '',
        timeEpoch: 0,
      },
      ...(init?.body !== undefined && init.body !== null && { body: String(init.body) }),
      isBase64Encoded: false,
    })
    const body = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? null)
    return new Response(body, {
      status: result.statusCode ?? 200,
      headers: result.headers as Record<string, string>,
    })
  }
}

describe('e2e: the auth function configured by CREDBROKER_ADMIN_IAM', () => {
  it('ok/an allowed role logs in through the Lambda handler; others are refused', async () => {
    const config = loadAuthLambdaConfig(
      {
        CREDBROKER_STORE: 'dynamodb',
        CREDBROKER_DYNAMODB_TABLE: 'credbroker-test',
        AWS_REGION: REGION,
        CREDBROKER_KMS_KEYS: '{}',
        CREDBROKER_STS_ENDPOINT: moto.endpoint,
        CREDBROKER_ADMIN_IAM: JSON.stringify([{ arn: ADMIN_ROLE_ARN }]),
      },
      tmpdir(),
    )
    const lambdaClock = new ManualClock(Date.now())
    const handler = createAuthLambdaHandler(config, {
      clock: lambdaClock,
      random: cryptoRandom,
      log: silentLogger,
      store: new MemoryStore({ clock: lambdaClock }),
      keys: new MemoryKeyStore(),
    })
    const options = {
      baseUrl: 'https://auth.lambda-url.us-east-1.on.aws',
      fetch: functionUrlFetch(handler),
      publicKeyPem: newKey().publicPem,
      region: REGION,
      clock: lambdaClock,
    }
    const { issued } = await loginWithIam({ ...options, credentials: async () => adminCreds })
    assert.equal(issued.identity.user, ADMIN_USER)
    assert.deepEqual(issued.identity.roles, ['admin'])
    await assert.rejects(loginWithIam({ ...options, credentials: async () => developerCreds }), {
      code: 'ERR_IAM_NOT_ALLOWED',
      status: 403,
    })
  })
})

describe('e2e: credbroker login (loginCommand) over HTTP on 127.0.0.1', () => {
  let server: ReturnType<typeof serve>
  let url: string
  let home: string
  /** The service addressed as `url` (its origin is what the CLI signs for). */
  let served: AuthService
  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'credbroker-login-'))
    await new Promise<void>((ready) => {
      server = serve({ fetch: (request) => served.app.fetch(request), hostname: '127.0.0.1', port: 0 }, () =>
        ready(),
      )
    })
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    served = await startService(url)
  })
  after(async () => {
    await new Promise<void>((done) => server.close(() => done()))
    rmSync(home, { recursive: true, force: true })
  })

  const env = (creds: AwsCredentials) => ({
    HOME: home,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_SESSION_TOKEN: creds.sessionToken,
    CREDBROKER_AUTH_SERVER: url,
  })
  const run = async (creds: AwsCredentials, options: Parameters<typeof loginCommand>[1]) => {
    const out: string[] = []
    const code = await loginCommand(
      { env: env(creds), cwd: home, stdout: (t) => out.push(t), stderr: () => {} },
      options,
    )
    return { code, out: out.join('\n') }
  }

  it('ok/writes key, tlscert and the user CA as one 0600 set, replaced atomically by the next login', async () => {
    const dir = join(home, '.credbroker', 'identity')
    const first = await run(adminCreds, {})
    assert.equal(first.code, 0)
    assert.match(
      first.out,
      new RegExp(`as ${ADMIN_USER} \\(arn:aws:sts::${MOTO_ACCOUNT_ID}:assumed-role/platform-admin/jane\\)`),
    )
    assert.match(first.out, /valid until \d{4}-\d\d-\d\dT/)

    const files = ['key', 'tlscert', 'credbroker-user-ca.crt', 'auth_server']
    for (const name of files) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name)
    assert.equal(lstatSync(join(dir, '.data')).isSymbolicLink(), true, 'the set sits behind one link')
    const version = readlinkSync(join(dir, '.data'))
    assert.equal(statSync(join(dir, version)).mode & 0o777, 0o700)
    assert.equal(readFileSync(join(dir, 'auth_server'), 'utf8').trim(), url)

    // The files make a working identity: the key matches the certificate, which the CA file
    // verifies, and the admin API accepts it.
    const keyPem = readFileSync(join(dir, 'key'), 'utf8')
    const certPem = readFileSync(join(dir, 'tlscert'), 'utf8')
    const caPem = readFileSync(join(dir, 'credbroker-user-ca.crt'), 'utf8')
    assert.ok(new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem)))
    assert.deepEqual([caPem], [served.deps.cas.user.trustedTlsPems.join('')])
    const verified = await opensslVerify({
      caPems: [caPem],
      leafPem: certPem,
      purpose: 'sslclient',
      atTime: clock.now(),
    })
    assert.equal(verified.ok, true, verified.output)
    const http = new AuthClient({ baseUrl: url, clock })
    const identity = { key: createPrivateKey(keyPem), tlsCertPem: certPem }
    const roles = await http.request<{ items: Role[] }>(identity, 'GET', '/v1/resources/role')
    assert.ok(roles.items.length > 0)

    // Logging in again swaps in a new set: new key, new certificate, the old version gone.
    const second = await run(adminCreds, { format: 'json', ttl: '30m' })
    assert.equal(second.code, 0)
    const json = JSON.parse(second.out) as Record<string, unknown>
    assert.equal(json.user, ADMIN_USER)
    assert.deepEqual(json.roles, ['admin'])
    assert.equal(json.identity, dir)
    assert.equal(Date.parse(String(json.not_after)) - clock.now().getTime(), 30 * 60_000)
    const newKeyPem = readFileSync(join(dir, 'key'), 'utf8')
    const newCertPem = readFileSync(join(dir, 'tlscert'), 'utf8')
    assert.notEqual(newKeyPem, keyPem)
    assert.ok(new X509Certificate(newCertPem).checkPrivateKey(createPrivateKey(newKeyPem)))
    assert.notEqual(readlinkSync(join(dir, '.data')), version)
    const leftovers = readdirSync(dir).filter(
      (n) => !files.includes(n) && n !== '.data' && !n.startsWith('.lock'),
    )
    assert.deepEqual(leftovers, [readlinkSync(join(dir, '.data'))], 'one version directory, no temp files')
  })

  it('fail/a principal not on the list: an error, nothing written', async () => {
    const dir = join(home, 'refused')
    await assert.rejects(run(developerCreds, { identityDir: dir }), {
      code: 'ERR_IAM_NOT_ALLOWED',
      status: 403,
    })
    assert.throws(() => statSync(dir), { code: 'ENOENT' })
  })

  it('fail/usage: no auth server, a bad TTL', async () => {
    const io = { env: { HOME: home }, cwd: home, stdout: () => {}, stderr: () => {} }
    await assert.rejects(loginCommand(io, {}), { code: 'ERR_BAD_REQUEST', message: /--auth-server/ })
    await assert.rejects(loginCommand(io, { authServer: url, ttl: '5s' }), { message: /--ttl/ })
    await assert.rejects(loginCommand(io, { authServer: url, ttl: 'soon' }), { message: /--ttl/ })
  })

  it('fail/usage: plain http to a host that is not loopback, before anything is sent', async () => {
    const io = { env: { HOME: home }, cwd: home, stdout: () => {}, stderr: () => {} }
    for (const authServer of [
      'http://auth.example.com',
      'http://10.0.0.1:3025/',
      'http://127.0.0.1.nip.io',
    ]) {
      await assert.rejects(
        loginCommand(io, { authServer }),
        (err: unknown) =>
          err instanceof UsageError &&
          err.code === 'ERR_BAD_REQUEST' &&
          err.message.includes('uses plain http') &&
          err.message.includes(`use https://${new URL(authServer).host}`),
        authServer,
      )
    }
    // Loopback over plain http is fine, whatever way 127.0.0.1 is written.
    const loopback = await run(adminCreds, { authServer: url.replace('127.0.0.1', '127.1'), format: 'json' })
    assert.equal(loopback.code, 0)
  })
})
