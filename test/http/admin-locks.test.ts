/**
 * The lock and bot-removal admin endpoints (lib/http/admin-routes.ts): `POST /v1/locks` (a
 * server-chosen id, `created_by` the caller), listing and removal through `/v1/resources/lock`,
 * `DELETE /v1/bots/:name`, and a locked administrator (refused; the CLI's direct path is the way
 * back).
 */
import assert from 'node:assert/strict'
import { beforeEach, describe, it } from 'node:test'
import { removeLock } from '../../lib/auth/lock-admin.ts'
import type { ClientIdentity } from '../../lib/bot/auth-client.ts'
import type { Lock } from '../../lib/resources/types.ts'
import { type AuthHarness, adminIdentity, authHarness, joinedBot, newKey } from '../helpers/auth-harness.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** The outcome of a call: `ok` and the body, or the error's code, status and message. */
const outcome = <T>(p: Promise<T>) =>
  p.then(
    (body) => ({ ok: body }),
    (err: { code: string; status: number; message: string }) => ({
      code: err.code,
      status: err.status,
      message: err.message,
    }),
  )

const certsFor = (h: AuthHarness, bot: ClientIdentity) =>
  h.client.certs(bot, { publicKeyPem: newKey().publicPem, roles: ['access'], ttlSeconds: 600 })

describe('admin API: locks', () => {
  let h: AuthHarness
  let admin: ClientIdentity
  beforeEach(async () => {
    h = await authHarness()
    admin = await adminIdentity(h)
  })

  it('ok/POST /v1/locks: 201, a UUID id, created_by the caller, expiry from a duration; in force at once', async () => {
    // Prepare
    const { identity: bot } = await joinedBot(h)
    // Act
    const lock = await h.client.request<Lock>(admin, 'POST', '/v1/locks', {
      target: { user: 'bot-example' },
      message: 'incident 9',
      expires: '30m',
    })
    // Assess
    assert.match(lock.metadata.name, UUID)
    assert.deepEqual(lock.spec, {
      target: { user: 'bot-example' },
      message: 'incident 9',
      created_by: 'admin',
      created_at: h.clock.now().toISOString(),
    })
    assert.equal(lock.metadata.expires, new Date(h.clock.now().getTime() + 30 * 60_000).toISOString())
    assert.deepEqual(await outcome(certsFor(h, bot)), {
      code: 'ERR_ACCESS_DENIED',
      status: 403,
      message: 'lock targeting user "bot-example" is in force: incident 9',
    })
    const listed = await h.client.request<{ items: Lock[] }>(admin, 'GET', '/v1/resources/lock')
    assert.deepEqual(
      listed.items.map((l) => l.metadata.name),
      [lock.metadata.name],
    )
    // Removal through the generic route restores service.
    await h.client.request(admin, 'DELETE', `/v1/resources/lock/${lock.metadata.name}`)
    assert.ok('ok' in (await outcome(certsFor(h, bot))))
  })

  it('ok/every route that creates, changes or removes a lock audits it', async () => {
    const created = await h.client.request<Lock>(admin, 'POST', '/v1/resources', {
      kind: 'lock',
      version: 'v1',
      metadata: { name: 'by-hand' },
      spec: { target: { role: 'access' }, message: 'generic create' },
    })
    await h.client.request(admin, 'PUT', '/v1/resources/lock/by-hand', {
      ...created,
      spec: { ...created.spec, target: { role: 'other' } },
    })
    await h.client.request(admin, 'DELETE', '/v1/resources/lock/by-hand')
    const events = (await h.store.list('audit/')).items
      .map((item) => JSON.parse(item.value) as { type: string; lock?: string; target?: string })
      .filter((e) => e.type.startsWith('lock.'))
    // Audit keys sort by time, then a random id: one instant holds all three events.
    assert.deepEqual(events.map((e) => e.type).sort(), ['lock.created', 'lock.deleted', 'lock.updated'])
    assert.ok(events.every((e) => e.lock === 'by-hand'))
    assert.equal(events.find((e) => e.type === 'lock.updated')?.target, 'role "other"')
  })

  it('ok/POST /v1/locks with an RFC 3339 expiry; the lock is gone after it', async () => {
    const at = new Date(h.clock.now().getTime() + 60_000).toISOString()
    const lock = await h.client.request<Lock>(admin, 'POST', '/v1/locks', {
      target: { role: 'access' },
      expires: at,
    })
    assert.equal(lock.metadata.expires, at)
    assert.equal(lock.spec.message, '')
    h.clock.advance(60_000)
    assert.deepEqual(
      await outcome(h.client.request(admin, 'GET', `/v1/resources/lock/${lock.metadata.name}`)),
      {
        code: 'ERR_NOT_FOUND',
        status: 404,
        message: `lock "${lock.metadata.name}" not found`,
      },
    )
  })

  const invalid: [name: string, body: object, code: string, message: RegExp][] = [
    ['no target', { target: {} }, 'ERR_INVALID_RESOURCE', /^spec\.target: needs exactly one of/],
    ['two targets', { target: { user: 'a', role: 'b' } }, 'ERR_INVALID_RESOURCE', /^spec\.target: /],
    [
      'a malformed bot instance',
      { target: { bot_instance: 'example' } },
      'ERR_INVALID_RESOURCE',
      /^spec\.target\.bot_instance: must be/,
    ],
    ['an unknown target field', { target: { bot: 'x' } }, 'ERR_INVALID_RESOURCE', /^spec\.target\.bot: /],
    [
      'an expiry that is no time',
      { target: { user: 'a' }, expires: 'soon' },
      'ERR_BAD_REQUEST',
      /^expires: "soon"/,
    ],
    [
      'an expiry in the past',
      { target: { user: 'a' }, expires: '2020-01-01T00:00:00Z' },
      'ERR_BAD_REQUEST',
      /^expires: 2020-01-01T00:00:00Z is in the past$/,
    ],
    ['an unknown field', { target: { user: 'a' }, ttl: 5 }, 'ERR_BAD_REQUEST', /^unknown field ttl$/],
    ['no target at all', { message: 'x' }, 'ERR_BAD_REQUEST', /^target: /],
  ]
  for (const [name, body, code, message] of invalid) {
    it(`fail/POST /v1/locks with ${name}: 400 ${code} naming the field, nothing written`, async () => {
      const result = await outcome(h.client.request(admin, 'POST', '/v1/locks', body))
      assert.deepEqual({ ...result, message: undefined }, { code, status: 400, message: undefined })
      assert.match((result as { message: string }).message, message)
      assert.deepEqual((await h.service.deps.resources.list('lock')).items, [])
    })
  }

  it('fail/a bot may not create locks (RBAC: 403)', async () => {
    const { identity: bot } = await joinedBot(h)
    const result = await outcome(h.client.request(bot, 'POST', '/v1/locks', { target: { user: 'bot-x' } }))
    assert.deepEqual(
      { ...result, message: undefined },
      { code: 'ERR_ACCESS_DENIED', status: 403, message: undefined },
    )
    assert.match((result as { message: string }).message, /^bot-example may not create lock: /)
  })

  for (const target of [{ user: 'admin' }, { role: 'admin' }]) {
    it(`fail/a lock on the administrator’s ${Object.keys(target)[0]} refuses every admin request; removing it (CLI path) restores`, async () => {
      // Prepare
      const lock = await h.client.request<Lock>(admin, 'POST', '/v1/locks', { target, message: 'rotation' })
      const describes = 'user' in target ? 'user "admin"' : 'role "admin"'
      const refused = {
        code: 'ERR_ACCESS_DENIED',
        status: 403,
        message: `lock targeting ${describes} is in force: rotation`,
      }
      // Act + Assess: listing, reading, creating, deleting: all refused, even the lock's removal.
      assert.deepEqual(await outcome(h.client.request(admin, 'GET', '/v1/resources/role')), refused)
      assert.deepEqual(
        await outcome(h.client.request(admin, 'POST', '/v1/bots', { name: 'ci', roles: [] })),
        refused,
      )
      assert.deepEqual(
        await outcome(h.client.request(admin, 'DELETE', `/v1/resources/lock/${lock.metadata.name}`)),
        refused,
      )
      // The CLI acts on the state directly: it can lift the lock.
      await removeLock(h.service.deps, 'cli', lock.metadata.name)
      assert.ok('ok' in (await outcome(h.client.request(admin, 'GET', '/v1/resources/role'))))
    })
  }
})

describe('admin API: DELETE /v1/bots/:name', () => {
  let h: AuthHarness
  let admin: ClientIdentity
  beforeEach(async () => {
    h = await authHarness()
    admin = await adminIdentity(h)
  })

  it('ok/removes the bot, its tokens and instances, reports the locks it kept', async () => {
    const { response } = await joinedBot(h)
    const instance = `example/${response.identity.bot_instance_id}`
    const lock = await h.client.request<Lock>(admin, 'POST', '/v1/locks', {
      target: { bot_instance: instance },
    })
    await h.client.request(admin, 'POST', '/v1/bots/example/instances')
    const removed = await h.client.request(admin, 'DELETE', '/v1/bots/example')
    assert.deepEqual(removed, {
      bot: true,
      user: 'bot-example',
      role: 'bot-example',
      tokens: 1,
      instances: [instance],
      locks_kept: [lock.metadata.name],
    })
    const locks = await h.client.request<{ items: Lock[] }>(admin, 'GET', '/v1/resources/lock')
    assert.deepEqual(
      locks.items.map((l) => l.metadata.name),
      [lock.metadata.name],
    )
    assert.deepEqual(await outcome(h.client.request(admin, 'DELETE', '/v1/bots/example')), {
      code: 'ERR_NOT_FOUND',
      status: 404,
      message: 'bot "example" not found',
    })
  })

  it('fail/a bot may not remove bots (RBAC: 403), and nothing is removed', async () => {
    const { identity: bot } = await joinedBot(h)
    const result = await outcome(h.client.request(bot, 'DELETE', '/v1/bots/example'))
    assert.deepEqual(
      { ...result, message: undefined },
      { code: 'ERR_ACCESS_DENIED', status: 403, message: undefined },
    )
    assert.match((result as { message: string }).message, /^bot-example may not delete bot: /)
    await h.service.deps.resources.get('bot', 'example')
  })
})
