/**
 * Lock enforcement (lib/auth/locks.ts) through the HTTP app: every lock target × every entry
 * point, table-driven, each combination with the outcome it must have; then expiry (on the
 * injected clock) and `locks rm`.
 *
 * Every case starts from a fresh service: bot `example` may impersonate `issuer` (databases,
 * SPIFFE paths, host certificates), joined once with a token (instance A); a second, unused
 * `token` join token; the `iam` token `iam-example` of the IAM harness.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { addJoinToken } from '../../lib/auth/bots.ts'
import { addLock, listLocks, removeLock } from '../../lib/auth/lock-admin.ts'
import type { ClientIdentity } from '../../lib/bot/auth-client.ts'
import type { LockTarget } from '../../lib/resources/types.ts'
import { joinedBot, newKey } from '../helpers/auth-harness.ts'
import { type IamHarness, iamHarness, signedStsRequest, TOKEN } from '../helpers/iam-harness.ts'

const MESSAGE = 'incident 7'

interface Env {
  readonly h: IamHarness
  /** The token-joined identity of instance A. */
  readonly bot: ClientIdentity
  /** `example/<id of instance A>` */
  readonly instance: string
  /** An unused `token` join token of bot `example`. */
  readonly joinToken: string
}

async function setup(): Promise<Env> {
  const h = await iamHarness()
  await h.service.deps.resources.create({
    kind: 'role',
    version: 'v1',
    metadata: { name: 'issuer' },
    spec: {
      allow: {
        db_labels: { '*': ['*'] },
        db_names: ['example'],
        db_users: ['alice'],
        spiffe: ['/svc/*'],
        rules: [
          { resources: ['db_server', 'db'], verbs: ['read', 'list'] },
          { resources: ['host_cert'], verbs: ['create'] },
        ],
      },
    },
  })
  const { identity, response } = await joinedBot(h, ['issuer'])
  const { token } = await addJoinToken(h.service.deps, 'example')
  return { h, bot: identity, instance: `example/${response.identity.bot_instance_id}`, joinToken: token }
}

async function iamJoin(env: Env, previous?: ClientIdentity) {
  const { challenge } = await env.h.client.iamChallenge(TOKEN)
  const stsRequest = { ...(await signedStsRequest(challenge, env.h.clock.now())), method: 'POST' as const }
  return env.h.client.joinIam(
    { token: TOKEN, publicKeyPem: newKey().publicPem, ttlSeconds: 3600, stsRequest },
    previous,
  )
}

const svid = { roles: ['issuer'], path: '/svc/web', ttlSeconds: 600 }

/** Each entry point, called as a bot would call it. */
const POINTS = {
  'token join': (env: Env) => env.h.client.join(env.joinToken, newKey().publicPem, 3600),
  'iam join': (env: Env) => iamJoin(env),
  'iam re-join signed by the previous identity': (env: Env) => iamJoin(env, env.bot),
  renew: (env: Env) => env.h.client.renew(env.bot, newKey().publicPem, 3600),
  certs: (env: Env) =>
    env.h.client.certs(env.bot, { publicKeyPem: newKey().publicPem, roles: ['issuer'], ttlSeconds: 600 }),
  'routed certs (database)': (env: Env) =>
    env.h.client.certs(env.bot, {
      publicKeyPem: newKey().publicPem,
      roles: ['issuer'],
      ttlSeconds: 600,
      route: { database: { service: 'example', username: 'alice', database: 'example' } },
    }),
  'host certs': (env: Env) =>
    env.h.client.hostCerts(env.bot, {
      publicKeyPem: newKey('ed25519').publicPem,
      roles: ['issuer'],
      principals: ['localhost'],
      ttlSeconds: 600,
    }),
  'x509 svid': (env: Env) => env.h.client.x509Svid(env.bot, { ...svid, publicKeyPem: newKey().publicPem }),
  'jwt svid': (env: Env) => env.h.client.jwtSvid(env.bot, { ...svid, audiences: ['https://api'] }),
  heartbeat: (env: Env) =>
    env.h.client.heartbeat(env.bot, {
      hostname: 'ci-1',
      version: '0.1.0',
      one_shot: false,
      is_startup: true,
      uptime_seconds: 1,
    }),
  'admin list (GET /v1/resources/db)': (env: Env) => env.h.client.request(env.bot, 'GET', '/v1/resources/db'),
} as const
type Point = keyof typeof POINTS
const ALL = Object.keys(POINTS) as Point[]
const IAM_POINTS: readonly Point[] = ['iam join', 'iam re-join signed by the previous identity']
const ISSUANCE: readonly Point[] = ['certs', 'routed certs (database)', 'host certs', 'x509 svid', 'jwt svid']

interface TargetCase {
  readonly name: string
  readonly target: (env: Env) => LockTarget
  /** How refusals name the target. */
  readonly describes: (env: Env) => string
  /** The points this lock refuses; every other point must still work. */
  readonly refuses: readonly Point[]
}

const TARGETS: readonly TargetCase[] = [
  {
    name: 'the bot user',
    target: () => ({ user: 'bot-example' }),
    describes: () => 'user "bot-example"',
    refuses: ALL,
  },
  {
    name: 'the bot role',
    target: () => ({ role: 'bot-example' }),
    describes: () => 'role "bot-example"',
    refuses: ALL,
  },
  {
    // A fresh join makes a new instance, unaffected: the guide's recovery path.
    name: 'the bot instance',
    target: (env) => ({ bot_instance: env.instance }),
    describes: (env) => `bot instance "${env.instance}"`,
    refuses: ALL.filter((p) => p !== 'token join' && p !== 'iam join'),
  },
  {
    // Join-only: identities already issued keep working until they expire.
    name: 'the token join token',
    target: (env) => ({ join_token: env.joinToken }),
    describes: () => 'join token',
    refuses: ['token join'],
  },
  {
    name: 'the iam join token',
    target: () => ({ join_token: TOKEN }),
    describes: () => 'join token',
    refuses: IAM_POINTS,
  },
  {
    name: 'an impersonated role',
    target: () => ({ role: 'issuer' }),
    describes: () => 'role "issuer"',
    refuses: ISSUANCE,
  },
  {
    name: 'another bot’s user (control)',
    target: () => ({ user: 'bot-other' }),
    describes: () => 'user "bot-other"',
    refuses: [],
  },
]

describe('lock enforcement: target × entry point', () => {
  for (const t of TARGETS) {
    for (const point of ALL) {
      const refused = t.refuses.includes(point)
      it(`${refused ? 'fail' : 'ok'}/${point} with a lock on ${t.name}`, async () => {
        // Prepare
        const env = await setup()
        await addLock(env.h.service.deps, 'admin', { target: t.target(env), message: MESSAGE })
        // Act
        const outcome = await POINTS[point](env).then(
          () => 'ok',
          (err: { code: string; status: number; message: string }) => ({
            code: err.code,
            status: err.status,
            message: err.message,
          }),
        )
        // Assess
        const expected = refused
          ? {
              code: IAM_POINTS.includes(point) ? 'ERR_JOIN_LOCKED' : 'ERR_ACCESS_DENIED',
              status: 403,
              message: `lock targeting ${t.describes(env)} is in force: ${MESSAGE}`,
            }
          : 'ok'
        assert.deepEqual(outcome, expected)
      })
    }
  }
})

describe('lock enforcement: side effects, expiry, removal', () => {
  it('fail/a refused heartbeat or renewal leaves the instance record as it was', async () => {
    const env = await setup()
    const before = await env.h.service.deps.resources.get('bot_instance', env.instance)
    await addLock(env.h.service.deps, 'admin', { target: { bot_instance: env.instance } })
    await assert.rejects(POINTS.heartbeat(env), { code: 'ERR_ACCESS_DENIED' })
    await assert.rejects(POINTS.renew(env), { code: 'ERR_ACCESS_DENIED' })
    const after = await env.h.service.deps.resources.get('bot_instance', env.instance)
    assert.equal(after.metadata.revision, before.metadata.revision)
    assert.deepEqual(after.status.latest_heartbeats, [])
    assert.equal(after.status.generation, 1)
  })

  it('ok/a lock with an expiry applies until that instant on the injected clock, then is gone', async () => {
    // Prepare: a lock for 30 minutes.
    const env = await setup()
    const expires = new Date(env.h.clock.now().getTime() + 30 * 60_000)
    const lock = await addLock(env.h.service.deps, 'admin', {
      target: { user: 'bot-example' },
      message: MESSAGE,
      expires,
    })
    assert.equal(lock.metadata.expires, expires.toISOString())
    // Act + Assess: refused up to the last millisecond, served from the expiry instant on.
    env.h.clock.advance(30 * 60_000 - 1)
    await assert.rejects(POINTS.certs(env), { code: 'ERR_ACCESS_DENIED', message: /is in force: incident 7/ })
    await assert.rejects(POINTS['iam join'](env), { code: 'ERR_JOIN_LOCKED' })
    assert.equal((await listLocks(env.h.service.deps)).length, 1)
    env.h.clock.advance(1)
    await POINTS.certs(env)
    await POINTS.heartbeat(env)
    await POINTS['iam join'](env)
    assert.deepEqual(await listLocks(env.h.service.deps), [])
  })

  it('ok/removing the lock restores service on the next request', async () => {
    const env = await setup()
    const lock = await addLock(env.h.service.deps, 'admin', { target: { role: 'bot-example' } })
    await assert.rejects(POINTS.renew(env), { code: 'ERR_ACCESS_DENIED' })
    await assert.rejects(POINTS['token join'](env), { code: 'ERR_ACCESS_DENIED' })
    const removed = await removeLock(env.h.service.deps, 'admin', lock.metadata.name)
    assert.deepEqual(removed.spec.target, { role: 'bot-example' })
    for (const point of ALL) await POINTS[point](env)
  })

  it('fail/an iam re-join signed by a locked instance is refused even when its record is gone', async () => {
    const env = await setup()
    await addLock(env.h.service.deps, 'admin', { target: { bot_instance: env.instance }, message: MESSAGE })
    await env.h.service.deps.resources.delete('bot_instance', env.instance)
    await assert.rejects(POINTS['iam re-join signed by the previous identity'](env), {
      code: 'ERR_JOIN_LOCKED',
      message: `lock targeting bot instance "${env.instance}" is in force: ${MESSAGE}`,
    })
    const instances = await env.h.service.deps.resources.list('bot_instance', { prefix: 'example/' })
    assert.deepEqual(instances.items, [])
  })

  it('ok/a locked instance rejoining with a new token is a new, unlocked instance (the guide’s recovery)', async () => {
    const env = await setup()
    await addLock(env.h.service.deps, 'admin', { target: { bot_instance: env.instance } })
    const kp = newKey()
    const joined = await env.h.client.join(env.joinToken, kp.publicPem, 3600)
    assert.notEqual(`example/${joined.identity.bot_instance_id}`, env.instance)
    const fresh = { key: kp.key, tlsCertPem: joined.tls_cert }
    assert.equal((await env.h.client.renew(fresh, newKey().publicPem, 3600)).identity.generation, 2)
    await assert.rejects(POINTS.certs(env), { code: 'ERR_ACCESS_DENIED' })
  })
})
