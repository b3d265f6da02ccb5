/**
 * Acceptance tests of the `iam` join against moto with SigV4 signature checking on.
 *
 * Set-up, as on AWS: an IAM user may assume `bot-role`, whose trust policy names that user; the
 * user assumes it with session name `my-function` (the caller ARN a Lambda function gets). The
 * auth service forwards the bot's signed GetCallerIdentity request to moto: its STS transport maps
 * `sts.us-east-1.amazonaws.com` to moto's URL and keeps the signed Host header (moto routes by the
 * credential scope, so the signature still matches). The auth API itself is called through
 * `app.request` (no socket); only moto listens, on 127.0.0.1.
 *
 * Cases: (a) the assumed-role caller joins; (b) the user's own ARN matches no allow rule;
 * (c) a request signed with a wrong secret is refused by STS itself; (d) joining again with proof
 * of the current identity keeps the bot instance; (e) full bot cycles with an `iam` onboarding
 * config; plus a replayed request (its challenge is single use), and the audience: a join signed
 * for another auth service's origin is refused, and a server relaying this one to a bot gets
 * nothing it can join with.
 */
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam'
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts'
import { MemoryDestination } from '../../lib/adapters/memory/destination.ts'
import { MemoryKeyStore } from '../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../lib/adapters/memory/store.ts'
import type { IssueResponse } from '../../lib/auth/issue-response.ts'
import { type AuthService, createAuthService } from '../../lib/auth/service.ts'
import { AuthClient, type ClientIdentity, type Fetch } from '../../lib/bot/auth-client.ts'
import { type BotDeps, runCycle } from '../../lib/bot/bot.ts'
import { type BotConfig, validateBotConfig } from '../../lib/bot/config.ts'
import { type AwsCredentials, signGetCallerIdentity } from '../../lib/bot/iam-signer.ts'
import { loadDocuments } from '../../lib/cli/load-documents.ts'
import { ManualClock } from '../../lib/clock.ts'
import { isBrokerError } from '../../lib/errors.ts'
import { createNodeStsTransport } from '../../lib/join/iam/transport.ts'
import { silentLogger } from '../../lib/log.ts'
import { cryptoRandom } from '../../lib/random.ts'
import type { Token } from '../../lib/resources/types.ts'
import { applyResources } from '../../lib/services/apply.ts'
import { newKey } from '../helpers/auth-harness.ts'
import { type AccessKey, MOTO_ACCOUNT_ID, type MotoServer, startMoto } from '../helpers/moto.ts'

/** The service's publicAddr and the bots' auth_server (a loopback URL, as bot configs require http). */
const BASE_URL = 'http://127.0.0.1:3025'
/** The origin a join must be signed for: the service's publicAddr, which the client addresses. */
const AUDIENCE = new URL(BASE_URL).origin
const REGION = 'us-east-1'
const TOKEN = 'example-iam'
const USER = 'bot-user'
const ROLE = 'bot-role'
const SESSION = 'my-function'
const ROLE_ARN_GLOB = `arn:aws:sts::${MOTO_ACCOUNT_ID}:assumed-role/${ROLE}/*`
const HOUR = 3600_000

let moto: MotoServer
let userKeys: AccessKey
let roleCreds: AwsCredentials
let clock: ManualClock
let service: AuthService
let client: AuthClient

before(async () => {
  moto = await startMoto({ auth: true })
  // With auth still off: the user (allowed to assume roles) and the role that trusts only it.
  userKeys = await moto.createIamUser(USER, {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
  })
  const iam = new IAMClient({ endpoint: moto.endpoint, region: REGION, credentials: moto.adminCredentials })
  try {
    await iam.send(
      new CreateRoleCommand({
        RoleName: ROLE,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/${USER}` },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    )
  } finally {
    iam.destroy()
  }
  await moto.enableAuth() // every later request is signature-checked and IAM-authorised

  const sts = new STSClient({ endpoint: moto.endpoint, region: REGION, credentials: userKeys })
  try {
    const { Credentials: c } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/${ROLE}`,
        RoleSessionName: SESSION,
      }),
    )
    assert.ok(c?.AccessKeyId && c.SecretAccessKey && c.SessionToken, 'AssumeRole returned credentials')
    roleCreds = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
    }
  } finally {
    sts.destroy()
  }

  clock = new ManualClock(Date.UTC(2026, 10, 22, 12))
  const options = {
    clusterName: 'test.local',
    publicAddr: BASE_URL,
    store: new MemoryStore({ clock }),
    keys: new MemoryKeyStore(),
    clock,
    random: cryptoRandom,
    log: silentLogger,
    // The forwarded request keeps its signed Host (sts.us-east-1.amazonaws.com) but goes to moto.
    iam: {
      transport: createNodeStsTransport({
        endpointOverrides: new Map([[`sts.${REGION}.amazonaws.com`, new URL(moto.endpoint)]]),
      }),
    },
  }
  service = await createAuthService(options)
  await applyResources(service.deps.resources, loadDocuments(resolve('examples/cluster')))
  await service.deps.resources.create({
    kind: 'token',
    version: 'v1',
    metadata: { name: TOKEN, labels: {} },
    spec: {
      join_method: 'iam',
      bot_name: 'example',
      allow: [{ aws_account: MOTO_ACCOUNT_ID, aws_arn: ROLE_ARN_GLOB }],
    },
  } satisfies Token)
  const fetch = async (url: string, init?: RequestInit) => service.app.request(url, init)
  client = new AuthClient({ baseUrl: BASE_URL, fetch, clock })
})

after(async () => {
  await moto?.stop()
})

/**
 * Gets a challenge, signs it with `credentials` for `audience` (this service's origin unless
 * given) and joins; `as` adds proof of possession.
 */
async function iamJoin(credentials: AwsCredentials, as?: ClientIdentity, audience = AUDIENCE) {
  const { challenge, expires } = await client.iamChallenge(TOKEN)
  assert.ok(new Date(expires) > clock.now(), 'the challenge expires in the future')
  const stsRequest = await signGetCallerIdentity({
    challenge,
    audience,
    region: REGION,
    credentials: async () => credentials,
    clock,
  })
  const kp = newKey()
  const issued = await client.joinIam(
    { token: TOKEN, publicKeyPem: kp.publicPem, ttlSeconds: 3600, stsRequest },
    as,
  )
  return { issued, identity: { key: kp.key, tlsCertPem: issued.tls_cert } as ClientIdentity, stsRequest }
}

function assertIamBotIdentity(issued: IssueResponse) {
  assert.equal(issued.identity.user, 'bot-example')
  assert.equal(issued.identity.bot_name, 'example')
  assert.equal(issued.identity.renewable, false)
  assert.equal(issued.identity.generation, 0)
  assert.ok(issued.identity.bot_instance_id, 'a bot instance id')
}

async function instanceCount(): Promise<number> {
  return (await service.deps.resources.list('bot_instance', { prefix: 'example/' })).items.length
}

/** A bot config joining with the `iam` token, addressing `authServer`. */
function iamBotConfig(authServer: string, outputs: readonly object[]): BotConfig {
  return validateBotConfig(
    {
      version: 'v1',
      auth_server: authServer,
      onboarding: { join_method: 'iam', token: TOKEN },
      storage: { type: 'memory' },
      outputs,
    },
    { baseDir: '/' },
  ).config
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; status: number }> {
  try {
    await promise
  } catch (err) {
    assert.ok(isBrokerError(err), `a broker error, got ${String(err)}`)
    return { code: err.code, status: err.status }
  }
  assert.fail('the join was accepted')
}

describe('e2e: iam join against moto (signature checking on)', () => {
  it("the bot's signed request, forwarded as the server forwards it, is verified by STS", async () => {
    const transport = createNodeStsTransport({
      endpointOverrides: new Map([[`sts.${REGION}.amazonaws.com`, new URL(moto.endpoint)]]),
    })
    const signed = (credentials: AwsCredentials) =>
      signGetCallerIdentity({
        challenge: 'c2lnbmVkLWNoYWxsZW5nZQ',
        region: REGION,
        credentials: async () => credentials,
        clock,
      })
    const ok = await transport.send(await signed(roleCreds))
    assert.equal(ok.status, 200)
    assert.match(
      Buffer.from(ok.body).toString('utf8'),
      new RegExp(`<Arn>arn:aws:sts::${MOTO_ACCOUNT_ID}:assumed-role/${ROLE}/${SESSION}</Arn>`),
    )
    const user = await transport.send(await signed(userKeys))
    assert.equal(user.status, 200)
    assert.match(
      Buffer.from(user.body).toString('utf8'),
      new RegExp(`<Arn>arn:aws:iam::${MOTO_ACCOUNT_ID}:user/${USER}</Arn>`),
    )
    const forged = await transport.send(await signed({ ...userKeys, secretAccessKey: 'wrong' }))
    assert.equal(forged.status, 403)
    const tampered = await signed(roleCreds)
    const bad = await transport.send({
      ...tampered,
      headers: { ...tampered.headers, 'x-credbroker-challenge': 'other' },
    })
    assert.equal(bad.status, 403)
  })

  it('(a) joins a caller with assumed-role credentials matching the allow rule', async () => {
    const { issued, stsRequest } = await iamJoin(roleCreds)
    assertIamBotIdentity(issued)
    assert.equal(stsRequest.headers['x-amz-security-token'], roleCreds.sessionToken)
  })

  it("(b) refuses the IAM user's own credentials: its ARN matches no allow rule", async () => {
    assert.deepEqual(await refusal(iamJoin(userKeys)), { code: 'ERR_IAM_NOT_ALLOWED', status: 403 })
  })

  it('(c) refuses a request signed with a wrong secret: STS itself answers 403', async () => {
    const forged = { accessKeyId: userKeys.accessKeyId, secretAccessKey: `${userKeys.secretAccessKey}x` }
    assert.deepEqual(await refusal(iamJoin(forged)), { code: 'ERR_IAM_STS_REJECTED', status: 401 })
    const forgedRole = { ...roleCreds, secretAccessKey: 'not-the-role-secret' }
    assert.deepEqual(await refusal(iamJoin(forgedRole)), { code: 'ERR_IAM_STS_REJECTED', status: 401 })
  })

  it('(d) joining again with proof of a valid identity keeps the bot instance; without it, a new one', async () => {
    const first = await iamJoin(roleCreds)
    const again = await iamJoin(roleCreds, first.identity)
    assertIamBotIdentity(again.issued)
    assert.equal(again.issued.identity.bot_instance_id, first.issued.identity.bot_instance_id)
    assert.notEqual(again.issued.serial, first.issued.serial)

    const fresh = await iamJoin(roleCreds)
    assert.notEqual(fresh.issued.identity.bot_instance_id, first.issued.identity.bot_instance_id)
  })

  it('refuses a replayed signed request: its challenge is single use', async () => {
    const { stsRequest } = await iamJoin(roleCreds)
    const kp = newKey()
    const replay = client.joinIam({ token: TOKEN, publicKeyPem: kp.publicPem, stsRequest })
    assert.deepEqual(await refusal(replay), { code: 'ERR_IAM_BAD_CHALLENGE', status: 401 })
  })

  it('refuses a join signed for another auth service; a rewritten audience is refused by STS itself', async () => {
    const before = await instanceCount()
    const staging = refusal(iamJoin(roleCreds, undefined, 'https://auth.staging.example'))
    assert.deepEqual(await staging, { code: 'ERR_IAM_BAD_HEADERS', status: 400 })
    // Signed for staging, its header rewritten to this origin afterwards: the signature breaks.
    const { challenge } = await client.iamChallenge(TOKEN)
    const signed = await signGetCallerIdentity({
      challenge,
      audience: 'https://auth.staging.example',
      region: REGION,
      credentials: async () => roleCreds,
      clock,
    })
    const rewritten = client.joinIam({
      token: TOKEN,
      publicKeyPem: newKey().publicPem,
      stsRequest: { ...signed, headers: { ...signed.headers, 'x-credbroker-audience': AUDIENCE } },
    })
    assert.deepEqual(await refusal(rewritten), { code: 'ERR_IAM_STS_REJECTED', status: 401 })
    assert.equal(await instanceCount(), before, 'no bot instance was created')
  })

  it('a server that relays this service to a bot gets nothing it can join with here', async () => {
    // The bot is pointed at https://auth.relay.example, which relays every call to this service:
    // the challenge is this service's, but the bot signs the relay's origin.
    const relayed: string[] = []
    const relay: Fetch = async (input, init) => {
      relayed.push(new URL(input).pathname)
      return service.app.request(input.replace('https://auth.relay.example', BASE_URL), init)
    }
    const config = iamBotConfig('https://auth.relay.example', [
      { type: 'identity', name: 'out', roles: ['access'], destination: { type: 'memory' } },
    ])
    const out = new MemoryDestination({ label: 'out' })
    const before = await instanceCount()
    const deps: BotDeps = {
      config,
      client: new AuthClient({ baseUrl: config.authServer, fetch: relay, clock }),
      storage: new MemoryDestination({ label: 'storage' }),
      destinations: new Map([['out', out]]),
      clock,
      log: silentLogger,
      aws: { region: REGION, credentials: async () => roleCreds },
    }
    await assert.rejects(runCycle(deps, { isStartup: true }), {
      code: 'ERR_IAM_BAD_HEADERS',
      message: /names auth service "https:\/\/auth\.relay\.example"; this one is http:\/\/127\.0\.0\.1:3025/,
    })
    assert.ok(relayed.includes('/v1/join/iam'), 'the relay forwarded the signed join')
    assert.equal(await instanceCount(), before, 'no bot instance was created')
    assert.equal(await out.read('tlscert'), undefined, 'nothing was written')
  })

  it('(e) a bot with an iam onboarding config joins every cycle, keeping its instance while valid', async () => {
    const config = iamBotConfig(BASE_URL, [
      { type: 'identity', name: 'out', roles: ['access'], destination: { type: 'memory' } },
    ])
    const storage = new MemoryDestination({ label: 'storage' })
    const out = new MemoryDestination({ label: 'out' })
    let credentialCalls = 0
    const deps: BotDeps = {
      config,
      client,
      storage,
      destinations: new Map([['out', out]]),
      clock,
      log: silentLogger,
      aws: {
        region: REGION,
        credentials: async () => {
          credentialCalls++
          return roleCreds
        },
      },
    }

    const first = await runCycle(deps, { isStartup: true })
    assert.deepEqual(
      first.outputs.map((o) => [o.output, o.ok]),
      [['out', true]],
    )
    assert.equal(first.identity.generation, 0)
    assert.ok(first.identity.botInstanceId)
    assert.ok((await out.read('tlscert')) !== undefined, 'the output was written')
    const state = JSON.parse(Buffer.from((await storage.read('state.json')) ?? []).toString('utf8'))
    assert.equal(state.bot_instance_id, first.identity.botInstanceId)
    assert.equal(credentialCalls, 1)

    // Next cycle, identity still valid: joins again (IAM identities are not renewable) with PoP.
    clock.advance(HOUR / 3)
    const second = await runCycle(deps)
    assert.ok(second.outputs.every((o) => o.ok))
    assert.equal(second.identity.botInstanceId, first.identity.botInstanceId)
    assert.notEqual(second.identity.tlsCertPem, first.identity.tlsCertPem)
    assert.equal(credentialCalls, 2)

    // Stored identity expired: the bot still joins (no token to run out of), as a new instance.
    clock.advance(2 * HOUR)
    const third = await runCycle(deps)
    assert.ok(third.outputs.every((o) => o.ok))
    assert.notEqual(third.identity.botInstanceId, first.identity.botInstanceId)
  })

  it('a bot with an iam config but no AWS credentials fails with a configuration error', async () => {
    const config = iamBotConfig(BASE_URL, [])
    const deps: BotDeps = {
      config,
      client,
      storage: new MemoryDestination(),
      destinations: new Map(),
      clock,
      log: silentLogger,
    }
    await assert.rejects(runCycle(deps), { code: 'ERR_INVALID_CONFIG' })
  })
})
