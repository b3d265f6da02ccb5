/**
 * The admin API (`/v1/resources…`, `/v1/bots…`) through the HTTP app: an administrator minted
 * with `issueAdminIdentity`, talking through `AuthClient.request` (proof of possession), and the
 * troubleshooting guide's recovery path after a generation lock (remove the lock, then
 * `bots instances add`, then join as a new instance).
 */
import assert from 'node:assert/strict'
import { beforeEach, describe, it } from 'node:test'
import type { ClientIdentity } from '../../lib/bot/auth-client.ts'
import type { Bot, Lock, Node, Role } from '../../lib/resources/types.ts'
import {
  type AuthHarness,
  adminIdentity,
  authHarness,
  BASE_URL,
  joinedBot,
  newKey,
  recordingClient,
  rejects,
} from '../helpers/auth-harness.ts'

const lockDoc = (
  name: string,
  message: string,
  target: Lock['spec']['target'] = { user: 'bot-example' },
) => ({
  kind: 'lock',
  version: 'v1',
  metadata: { name, labels: {} },
  spec: { target, message },
})

/** An impersonated-certificate request by the bot: the call a lock must stop. */
const certsFor = (h: AuthHarness, bot: ClientIdentity) =>
  h.client.certs(bot, { publicKeyPem: newKey().publicPem, roles: ['access'], ttlSeconds: 600 })

describe('admin API', () => {
  let h: AuthHarness
  let admin: ClientIdentity
  let api: ReturnType<typeof recordingClient>
  beforeEach(async () => {
    h = await authHarness()
    admin = await adminIdentity(h)
    api = recordingClient(h)
  })

  describe('resources', () => {
    it('ok/list roles: the example roles and the bootstrap admin role', async () => {
      const page = await api.client.request<{ items: Role[] }>(admin, 'GET', '/v1/resources/role')
      assert.equal(api.lastStatus(), 200)
      const names = page.items.map((r) => r.metadata.name)
      for (const name of ['access', 'machine-id-db', 'admin']) assert.ok(names.includes(name), name)
    })

    it('ok/list pages with limit and cursor (the query is covered by the PoP signature)', async () => {
      const first = await api.client.request<{ items: Role[]; next_cursor?: string }>(
        admin,
        'GET',
        '/v1/resources/role?limit=1',
      )
      assert.equal(first.items.length, 1)
      assert.ok(first.next_cursor)
      const rest = await api.client.request<{ items: Role[] }>(
        admin,
        'GET',
        `/v1/resources/role?limit=10&cursor=${encodeURIComponent(first.next_cursor)}`,
      )
      const all = [...first.items, ...rest.items].map((r) => r.metadata.name)
      assert.deepEqual(all, [...new Set(all)].sort())
      assert.ok(all.includes('admin') && all.includes('access') && all.includes('machine-id-db'))
    })

    it('fail/a limit that is not a number is a 400', async () => {
      await rejects(
        api.client.request(admin, 'GET', '/v1/resources/role?limit=many'),
        'ERR_BAD_REQUEST',
        400,
        /list limit/,
      )
    })

    it('ok/create a lock (201): it is in force on the next request of the bot', async () => {
      const { identity: bot } = await joinedBot(h)
      await certsFor(h, bot) // not locked yet
      const created = await api.client.request<Lock>(
        admin,
        'POST',
        '/v1/resources',
        lockDoc('incident-42', 'incident 42: investigating'),
      )
      assert.equal(api.lastStatus(), 201)
      assert.equal(created.metadata.name, 'incident-42')
      assert.ok(created.metadata.revision)
      await rejects(
        certsFor(h, bot),
        'ERR_ACCESS_DENIED',
        403,
        /lock targeting user "bot-example" is in force: incident 42: investigating/,
      )
    })

    it('ok/get; PUT with the current revision; fail/PUT with a stale revision is a 409', async () => {
      await api.client.request(admin, 'POST', '/v1/resources', lockDoc('l1', 'first'))
      const read = await api.client.request<Lock>(admin, 'GET', '/v1/resources/lock/l1')
      assert.equal(api.lastStatus(), 200)
      assert.equal(read.spec.message, 'first')
      const stale = read.metadata.revision

      const updated = await api.client.request<Lock>(admin, 'PUT', '/v1/resources/lock/l1', {
        ...read,
        spec: { ...read.spec, message: 'second' },
      })
      assert.equal(api.lastStatus(), 200)
      assert.notEqual(updated.metadata.revision, stale)

      await rejects(
        api.client.request(admin, 'PUT', '/v1/resources/lock/l1', {
          ...read,
          spec: { ...read.spec, message: 'lost update' },
        }),
        'ERR_REVISION_MISMATCH',
        409,
        /lock "l1" was changed, deleted or expired since it was read/,
      )
      const after = await api.client.request<Lock>(admin, 'GET', '/v1/resources/lock/l1')
      assert.equal(after.spec.message, 'second')
      assert.equal(after.metadata.revision, updated.metadata.revision)
    })

    it('fail/PUT without a revision, or with another kind than the path, is a 400', async () => {
      const read = await api.client.request<Lock>(
        admin,
        'POST',
        '/v1/resources',
        lockDoc('l1', 'first', { role: 'access' }),
      )
      const { revision: _revision, ...metadata } = read.metadata
      await rejects(
        api.client.request(admin, 'PUT', '/v1/resources/lock/l1', { ...read, metadata }),
        'ERR_INVALID_RESOURCE',
        400,
        /^metadata\.revision: is required/,
      )
      await rejects(
        api.client.request(admin, 'PUT', '/v1/resources/role/l1', read),
        'ERR_BAD_REQUEST',
        400,
        /kind: the document's kind must be role/,
      )
    })

    it('ok/DELETE lifts the lock; fail/a stale revision on DELETE is a 409, a second DELETE a 404', async () => {
      const { identity: bot } = await joinedBot(h)
      const created = await api.client.request<Lock>(admin, 'POST', '/v1/resources', lockDoc('l1', 'stop'))
      const updated = await api.client.request<Lock>(admin, 'PUT', '/v1/resources/lock/l1', created)
      await rejects(
        api.client.request(admin, 'DELETE', `/v1/resources/lock/l1?revision=${created.metadata.revision}`),
        'ERR_REVISION_MISMATCH',
        409,
      )
      await rejects(certsFor(h, bot), 'ERR_ACCESS_DENIED', 403, /is in force: stop/)

      const deleted = await api.client.request(
        admin,
        'DELETE',
        `/v1/resources/lock/l1?revision=${updated.metadata.revision}`,
      )
      assert.equal(api.lastStatus(), 200)
      assert.deepEqual(deleted, { ok: true })
      await rejects(
        api.client.request(admin, 'GET', '/v1/resources/lock/l1'),
        'ERR_NOT_FOUND',
        404,
        /lock "l1" not found/,
      )
      await rejects(api.client.request(admin, 'DELETE', '/v1/resources/lock/l1'), 'ERR_NOT_FOUND', 404)
      const issued = await certsFor(h, bot)
      assert.deepEqual(issued.identity.roles, ['access'])
    })

    const invalid: [name: string, doc: object, field: RegExp][] = [
      [
        'fail/a lock with two targets',
        lockDoc('bad', 'x', { user: 'bot-example', role: 'access' }),
        /^spec\.target: needs exactly one of: user, role, bot_instance, join_token/,
      ],
      [
        'fail/a lock with a malformed bot instance target',
        lockDoc('bad', 'x', { bot_instance: 'example' }),
        /^spec\.target\.bot_instance: must be "<bot name>\/<instance id>"/,
      ],
      [
        'fail/a role with an unknown field',
        {
          kind: 'role',
          version: 'v1',
          metadata: { name: 'bad' },
          spec: { allow: { logns: ['root'] } },
        },
        /^spec\.allow\.logns?: /,
      ],
      [
        'fail/a document without a version',
        { kind: 'lock', metadata: { name: 'bad' }, spec: { target: { user: 'x' } } },
        /^version: is required/,
      ],
    ]
    for (const [name, doc, field] of invalid) {
      it(`${name}: 400 ERR_INVALID_RESOURCE naming the field, nothing written`, async () => {
        await rejects(
          api.client.request(admin, 'POST', '/v1/resources', doc),
          'ERR_INVALID_RESOURCE',
          400,
          field,
        )
        const kind = (doc as { kind: 'lock' | 'role' }).kind
        await rejects(h.service.deps.resources.get(kind, 'bad'), 'ERR_NOT_FOUND', 404)
        const locks = await h.service.deps.resources.list('lock')
        assert.equal(locks.items.length, 0)
      })
    }

    it('fail/an unknown kind is a 400 on every route', async () => {
      const unknown = /unknown resource kind "widget"/
      await rejects(
        api.client.request(admin, 'POST', '/v1/resources', {
          kind: 'widget',
          version: 'v1',
          metadata: { name: 'w' },
          spec: {},
        }),
        'ERR_BAD_REQUEST',
        400,
        unknown,
      )
      await rejects(api.client.request(admin, 'GET', '/v1/resources/widget'), 'ERR_BAD_REQUEST', 400, unknown)
      await rejects(
        api.client.request(admin, 'GET', '/v1/resources/widget/w'),
        'ERR_BAD_REQUEST',
        400,
        unknown,
      )
      await rejects(
        api.client.request(admin, 'DELETE', '/v1/resources/widget/w'),
        'ERR_BAD_REQUEST',
        400,
        unknown,
      )
      await rejects(
        api.client.request(admin, 'POST', '/v1/resources', { metadata: { name: 'w' } }),
        'ERR_BAD_REQUEST',
        400,
        /^kind: required$/,
      )
    })

    it('fail/PUT whose path names another resource than the document is refused', async () => {
      await api.client.request(admin, 'POST', '/v1/resources', lockDoc('aaa', 'a'))
      const other = await api.client.request<Lock>(admin, 'POST', '/v1/resources', lockDoc('bbb', 'b'))
      await rejects(
        api.client.request(admin, 'PUT', '/v1/resources/lock/aaa', {
          ...other,
          spec: { ...other.spec, message: 'changed through the path of aaa' },
        }),
        'ERR_BAD_REQUEST',
        400,
      )
      const bbb = await h.service.deps.resources.get('lock', 'bbb')
      assert.equal(bbb.spec.message, 'b')
    })
  })

  describe('bots', () => {
    it('ok/POST /v1/bots creates a bot (201) and a token that joins', async () => {
      const res = await api.client.request<{ bot: Bot; token: string; token_expires: string }>(
        admin,
        'POST',
        '/v1/bots',
        { name: 'ci', roles: ['access'], token_ttl_seconds: 600 },
      )
      assert.equal(api.lastStatus(), 201)
      assert.equal(res.bot.metadata.name, 'ci')
      assert.deepEqual(res.bot.spec.roles, ['access'])
      assert.equal(res.token_expires, new Date(h.clock.now().getTime() + 600_000).toISOString())
      const joined = await h.client.join(res.token, newKey().publicPem, 3600)
      assert.equal(joined.identity.user, 'bot-ci')
      assert.deepEqual(joined.identity.roles, ['bot-ci'])
      assert.equal(joined.identity.generation, 1)
      // The token is single-use.
      await rejects(h.client.join(res.token, newKey().publicPem, 3600), 'ERR_UNAUTHENTICATED', 401)
    })

    it('fail/POST /v1/bots for an existing name is a 409; an invalid body a 400', async () => {
      await rejects(
        api.client.request(admin, 'POST', '/v1/bots', { name: 'example', roles: [] }),
        'ERR_ALREADY_EXISTS',
        409,
        /bot "example" already exists/,
      )
      await rejects(
        api.client.request(admin, 'POST', '/v1/bots', { name: 'ci', roles: ['access'], ttl: 5 }),
        'ERR_BAD_REQUEST',
        400,
        /unknown field ttl/,
      )
    })

    it('fail/instances for a bot that does not exist is a 404', async () => {
      await rejects(
        api.client.request(admin, 'POST', '/v1/bots/nobody/instances'),
        'ERR_NOT_FOUND',
        404,
        /bot "nobody" not found/,
      )
    })

    it('ok/the guide’s recovery after a generation lock: rm the lock, instances add, join as a new instance', async () => {
      // Prepare: a second holder of the generation-1 certificate renews after the bot did.
      const { identity, response } = await joinedBot(h)
      const oldId = response.identity.bot_instance_id as string
      const next = newKey()
      const renewed = await h.client.renew(identity, next.publicPem, 3600)
      await rejects(h.client.renew(identity, newKey().publicPem, 3600), 'ERR_ACCESS_DENIED', 403)
      await rejects(
        h.client.renew({ key: next.key, tlsCertPem: renewed.tls_cert }, newKey().publicPem, 3600),
        'ERR_ACCESS_DENIED',
        403,
        /has been locked due to a certificate generation mismatch/,
      )

      // Act 1: `tctl get locks`, then `tctl rm lock/<name>`.
      const locks = await api.client.request<{ items: Lock[] }>(admin, 'GET', '/v1/resources/lock')
      assert.equal(locks.items.length, 1)
      const lock = locks.items[0] as Lock
      assert.deepEqual(lock.spec.target, { bot_instance: `example/${oldId}` })
      assert.equal(
        lock.spec.message,
        `The bot instance example/${oldId} has been locked due to a certificate generation mismatch, possibly indicating a stolen certificate.`,
      )
      await api.client.request(admin, 'DELETE', `/v1/resources/lock/${lock.metadata.name}`)

      // Act 2: `tctl bots instances add example`, and the bot joins with the new token.
      const added = await api.client.request<{ token: string; token_expires: string }>(
        admin,
        'POST',
        '/v1/bots/example/instances',
      )
      assert.equal(api.lastStatus(), 201)
      const kp = newKey()
      const joined = await h.client.join(added.token, kp.publicPem, 3600)

      // Assess: a new instance at generation 1 that can renew and impersonate again.
      const newId = joined.identity.bot_instance_id as string
      assert.notEqual(newId, oldId)
      assert.equal(joined.identity.generation, 1)
      const fresh = { key: kp.key, tlsCertPem: joined.tls_cert }
      assert.equal((await h.client.renew(fresh, newKey().publicPem, 3600)).identity.generation, 2)
      const instance = await api.client.request<{ status: { generation: number } }>(
        admin,
        'GET',
        `/v1/resources/bot_instance/example/${newId}`,
      )
      assert.equal(instance.status.generation, 2)
      const old = await api.client.request<{ status: { generation: number } }>(
        admin,
        'GET',
        `/v1/resources/bot_instance/example/${oldId}`,
      )
      assert.equal(old.status.generation, 2)
    })
  })

  describe('authorization', () => {
    it('fail/a bot identity (bot role: cert_authority read_no_secrets only) gets 403 on admin endpoints', async () => {
      const { identity: bot } = await joinedBot(h)
      const calls: [string, string, unknown, RegExp][] = [
        [
          'GET',
          '/v1/resources/role',
          undefined,
          /^bot-example may not list role: no role allows list on role$/,
        ],
        ['GET', '/v1/resources/lock/l1', undefined, /may not read lock/],
        ['POST', '/v1/resources', lockDoc('l1', 'x', { role: 'access' }), /may not create lock/],
        ['PUT', '/v1/resources/role/access', { kind: 'role' }, /may not update role/],
        ['DELETE', '/v1/resources/lock/l1', undefined, /may not delete lock/],
        ['POST', '/v1/bots', { name: 'evil', roles: ['admin'] }, /may not create bot/],
        ['POST', '/v1/bots/example/instances', undefined, /may not create token/],
      ]
      for (const [method, path, body, message] of calls) {
        await rejects(api.client.request(bot, method, path, body), 'ERR_ACCESS_DENIED', 403, message)
        assert.equal(api.lastStatus(), 403, `${method} ${path}`)
      }
      // Nothing was written.
      assert.equal((await h.service.deps.resources.list('lock')).items.length, 0)
      await rejects(h.service.deps.resources.get('bot', 'evil'), 'ERR_NOT_FOUND', 404)
    })

    it('ok/an impersonated identity acts with its roles: access may list nodes but not roles', async () => {
      const { identity: bot } = await joinedBot(h)
      const out = newKey()
      const issued = await h.client.certs(bot, {
        publicKeyPem: out.publicPem,
        roles: ['access'],
        ttlSeconds: 600,
      })
      const impersonated = { key: out.key, tlsCertPem: issued.tls_cert }
      const nodes = await api.client.request<{ items: Node[] }>(impersonated, 'GET', '/v1/resources/node')
      assert.deepEqual(
        nodes.items.map((n) => n.metadata.name),
        ['localhost'],
      )
      await rejects(
        api.client.request(impersonated, 'GET', '/v1/resources/role'),
        'ERR_ACCESS_DENIED',
        403,
        /^bot-example may not list role/,
      )
    })

    it('fail/requests without proof of possession, or with an expired admin identity, are 401', async () => {
      for (const [method, path, body] of [
        ['GET', '/v1/resources/role', undefined],
        ['GET', '/v1/resources/lock/l1', undefined],
        ['POST', '/v1/resources', lockDoc('l1', 'x')],
        ['PUT', '/v1/resources/lock/l1', lockDoc('l1', 'x')],
        ['DELETE', '/v1/resources/lock/l1', undefined],
        ['POST', '/v1/bots', { name: 'ci', roles: [] }],
        ['POST', '/v1/bots/example/instances', undefined],
      ] as const) {
        const res = await h.fetch(`${BASE_URL}${path}`, {
          method,
          ...(body !== undefined && {
            body: JSON.stringify(body),
            headers: { 'content-type': 'application/json' },
          }),
        })
        assert.equal(res.status, 401, `${method} ${path}`)
        assert.deepEqual(await res.json(), {
          code: 'ERR_UNAUTHENTICATED',
          message: 'proof of possession rejected: no Authorization header',
        })
      }
      const shortLived = await adminIdentity(h, 60_000)
      h.clock.advance(60_001)
      await rejects(
        api.client.request(shortLived, 'GET', '/v1/resources/role'),
        'ERR_UNAUTHENTICATED',
        401,
        /certificate has expired/,
      )
    })

    it('fail/an unauthenticated request is a 401 before its kind or body is looked at', async () => {
      const cases: [string, string, string | undefined][] = [
        ['POST', '/v1/resources', '{}'],
        ['POST', '/v1/resources', 'not json'],
        ['GET', '/v1/resources/widget', undefined],
        ['DELETE', '/v1/resources/widget/w', undefined],
      ]
      for (const [method, path, body] of cases) {
        const res = await h.fetch(`${BASE_URL}${path}`, { method, ...(body !== undefined && { body }) })
        assert.equal(res.status, 401, `${method} ${path} ${body ?? ''}`)
      }
    })
  })
})
