/**
 * Lock administration (lib/auth/lock-admin.ts), the expiry rule of lib/auth/locks.ts, and bot
 * removal (`removeBot`, lib/auth/bots.ts), on the in-memory auth service of the HTTP harness.
 */
import assert from 'node:assert/strict'
import { beforeEach, describe, it } from 'node:test'
import { addBot, addJoinToken, removeBot } from '../../../lib/auth/bots.ts'
import {
  addLock,
  formatTarget,
  listLocks,
  parseLockExpiry,
  removeLock,
} from '../../../lib/auth/lock-admin.ts'
import { findLock, lockInForce } from '../../../lib/auth/locks.ts'
import { ManualClock } from '../../../lib/clock.ts'
import type { Lock } from '../../../lib/resources/types.ts'
import type { ResourceService } from '../../../lib/services/resource-service.ts'
import { type AuthHarness, authHarness, joinedBot, newKey } from '../../helpers/auth-harness.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const audits = async (h: AuthHarness, type: string) =>
  (await h.store.list('audit/')).items
    .map((i) => JSON.parse(i.value) as Record<string, unknown>)
    .filter((e) => e.type === type)

describe('lock administration', () => {
  let h: AuthHarness
  beforeEach(async () => {
    h = await authHarness()
  })

  it('ok/addLock: a UUID id, created_by/at, the expiry as metadata.expires, an audit event', async () => {
    const expires = new Date(h.clock.now().getTime() + 3600_000)
    const lock = await addLock(h.service.deps, 'admin', {
      target: { bot_instance: 'example/3f2c0b7e-8d1a-4c56-9e0f-2b7a4d1c9e85' },
      message: 'stolen?',
      expires,
    })
    assert.match(lock.metadata.name, UUID)
    assert.deepEqual(lock.spec, {
      target: { bot_instance: 'example/3f2c0b7e-8d1a-4c56-9e0f-2b7a4d1c9e85' },
      message: 'stolen?',
      created_by: 'admin',
      created_at: h.clock.now().toISOString(),
    })
    assert.equal(lock.metadata.expires, expires.toISOString())
    assert.deepEqual(await h.service.deps.resources.get('lock', lock.metadata.name), lock)
    const [event] = await audits(h, 'lock.created')
    assert.deepEqual(
      { user: event?.user, lock: event?.lock, target: event?.target, expires: event?.expires },
      {
        user: 'admin',
        lock: lock.metadata.name,
        target: 'bot instance "example/3f2c0b7e-8d1a-4c56-9e0f-2b7a4d1c9e85"',
        expires: expires.toISOString(),
      },
    )
  })

  it('ok/a join_token lock’s audit event leaves the token name out (it can be a join secret)', async () => {
    await addLock(h.service.deps, 'admin', { target: { join_token: 'c0ffee' } })
    const [event] = await audits(h, 'lock.created')
    assert.equal(event?.target, 'join token')
    assert.ok(!JSON.stringify(event).includes('c0ffee'))
  })

  const invalid: [name: string, target: object, field: RegExp][] = [
    ['no target', {}, /^spec\.target: needs exactly one of: user, role, bot_instance, join_token$/],
    ['two targets', { user: 'a', role: 'b' }, /^spec\.target: needs exactly one of/],
    ['a bot instance without id', { bot_instance: 'ci' }, /^spec\.target\.bot_instance: must be "<bot name>/],
    ['an invalid user name', { user: 'a b' }, /^spec\.target\.user: /],
  ]
  for (const [name, target, message] of invalid) {
    it(`fail/addLock with ${name}: ERR_INVALID_RESOURCE naming the field, nothing written`, async () => {
      await assert.rejects(addLock(h.service.deps, 'admin', { target }), {
        code: 'ERR_INVALID_RESOURCE',
        message,
      })
      assert.deepEqual(await listLocks(h.service.deps), [])
      assert.deepEqual(await audits(h, 'lock.created'), [])
    })
  }

  it('fail/addLock with an expiry already past: ERR_INVALID_RESOURCE metadata.expires', async () => {
    await assert.rejects(
      addLock(h.service.deps, 'admin', { target: { user: 'x' }, expires: h.clock.now() }),
      { code: 'ERR_INVALID_RESOURCE', field: 'metadata.expires' },
    )
  })

  it('ok/listLocks: oldest first; removeLock returns the lock and audits it; fail/again is ERR_NOT_FOUND', async () => {
    const first = await addLock(h.service.deps, 'admin', { target: { user: 'a' } })
    h.clock.advance(1000)
    const second = await addLock(h.service.deps, 'admin', { target: { user: 'b' } })
    assert.deepEqual(
      (await listLocks(h.service.deps)).map((l) => l.metadata.name),
      [first.metadata.name, second.metadata.name],
    )
    const removed = await removeLock(h.service.deps, 'cli', first.metadata.name)
    assert.deepEqual(removed.spec.target, { user: 'a' })
    assert.deepEqual(
      (await listLocks(h.service.deps)).map((l) => l.metadata.name),
      [second.metadata.name],
    )
    const [event] = await audits(h, 'lock.deleted')
    assert.deepEqual([event?.user, event?.lock], ['cli', first.metadata.name])
    await assert.rejects(removeLock(h.service.deps, 'cli', first.metadata.name), {
      code: 'ERR_NOT_FOUND',
      message: `lock "${first.metadata.name}" not found`,
    })
  })

  it('fail/a lock document whose created_at is no instant: ERR_INVALID_RESOURCE spec.created_at', async () => {
    const doc = {
      kind: 'lock',
      version: 'v1',
      metadata: { name: 'l1', labels: {} },
      spec: { target: { user: 'a' }, created_by: 'ops', created_at: 'yesterday' },
    }
    await assert.rejects(h.service.deps.resources.create(doc), {
      code: 'ERR_INVALID_RESOURCE',
      field: 'spec.created_at',
    })
  })

  it('ok/formatTarget names the field and the value', () => {
    assert.equal(formatTarget({ user: 'bot-ci' }), 'user=bot-ci')
    assert.equal(formatTarget({ role: 'access' }), 'role=access')
    assert.equal(formatTarget({ bot_instance: 'ci/x' }), 'bot_instance=ci/x')
    assert.equal(formatTarget({ join_token: 'iam-ci' }), 'join_token=iam-ci')
  })
})

describe('parseLockExpiry', () => {
  const now = new Date('2026-11-22T12:00:00Z')
  const ok: [text: string, expected: string][] = [
    ['30m', '2026-11-22T12:30:00.000Z'],
    ['1h30m', '2026-11-22T13:30:00.000Z'],
    ['2026-11-23T00:00:00Z', '2026-11-23T00:00:00.000Z'],
    ['2026-11-22T14:00:00+01:00', '2026-11-22T13:00:00.000Z'],
  ]
  for (const [text, expected] of ok) {
    it(`ok/${text}`, () => {
      assert.equal(parseLockExpiry(text, now, '--expires').toISOString(), expected)
    })
  }
  const bad: [text: string, message: RegExp][] = [
    ['tomorrow', /^--expires: "tomorrow" is neither a duration such as 30m or 12h nor an RFC 3339 instant/],
    ['-1h', /^--expires: "-1h" is neither/],
    ['0s', /^--expires: the duration must be positive$/],
    ['2026-11-22T12:00:00Z', /^--expires: 2026-11-22T12:00:00Z is in the past$/],
    ['2020-01-01T00:00:00Z', /is in the past$/],
  ]
  for (const [text, message] of bad) {
    it(`fail/${text}: ERR_BAD_REQUEST naming the option`, () => {
      assert.throws(() => parseLockExpiry(text, now, '--expires'), { code: 'ERR_BAD_REQUEST', message })
    })
  }
})

describe('lock expiry in enforcement', () => {
  const lock = (expires?: string): Lock => ({
    kind: 'lock',
    version: 'v1',
    metadata: { name: 'l1', labels: {}, ...(expires !== undefined && { expires }) },
    spec: { target: { user: 'bot-ci' }, message: '' },
  })

  it('ok/lockInForce: no expiry is forever; an expiry applies up to, not at, its instant', () => {
    const at = new Date('2026-01-01T00:00:00Z')
    assert.equal(lockInForce(lock(), at), true)
    assert.equal(lockInForce(lock('2026-01-01T00:00:00.001Z'), at), true)
    assert.equal(lockInForce(lock('2026-01-01T00:00:00Z'), at), false)
  })

  it('ok/findLock ignores an expired lock even if the store still returns it (the clock decides)', async () => {
    // A store whose expiry sweep lags behind: it still lists a lock that expired a minute ago.
    const stale = lock('2026-01-01T00:00:00Z')
    const resources = { list: async () => ({ items: [stale] }) } as unknown as ResourceService
    const clock = new ManualClock(Date.parse('2026-01-01T00:01:00Z'))
    assert.equal(await findLock({ resources, clock }, { user: 'bot-ci' }), undefined)
    clock.set(Date.parse('2025-12-31T23:59:00Z'))
    assert.equal((await findLock({ resources, clock }, { user: 'bot-ci' }))?.metadata.name, 'l1')
  })
})

describe('removeBot', () => {
  let h: AuthHarness
  beforeEach(async () => {
    h = await authHarness()
  })

  it('ok/removes the bot, its tokens and instances; keeps and reports its locks', async () => {
    // Prepare: bot ci with a joined instance, an unused token, an iam token, and locks.
    const deps = h.service.deps
    const added = await addBot(deps, 'admin', { name: 'ci', roles: ['access'] })
    const joined = await h.client.join(added.token, newKey().publicPem, 3600)
    const instance = `ci/${joined.identity.bot_instance_id}`
    await addJoinToken(deps, 'ci')
    await deps.resources.create({
      kind: 'token',
      version: 'v1',
      metadata: { name: 'iam-ci', labels: {} },
      spec: { join_method: 'iam', bot_name: 'ci', allow: [{ aws_account: '123456789012' }] },
    })
    const onUser = await addLock(deps, 'admin', { target: { user: 'bot-ci' } })
    const onInstance = await addLock(deps, 'admin', { target: { bot_instance: instance } })
    const onToken = await addLock(deps, 'admin', { target: { join_token: 'iam-ci' } })
    const unrelated = await addLock(deps, 'admin', { target: { user: 'bot-example' } })
    // Act
    const removed = await removeBot(deps, 'admin', 'ci')
    // Assess
    assert.deepEqual(
      { ...removed, locksKept: removed.locksKept.map((l) => l.metadata.name).sort() },
      {
        bot: true,
        user: 'bot-ci',
        role: 'bot-ci',
        tokens: 2,
        instances: [instance],
        locksKept: [onUser, onInstance, onToken].map((l) => l.metadata.name).sort(),
      },
    )
    await assert.rejects(deps.resources.get('bot', 'ci'), { code: 'ERR_NOT_FOUND' })
    assert.deepEqual((await deps.resources.list('token')).items, [])
    assert.deepEqual((await deps.resources.list('bot_instance', { prefix: 'ci/' })).items, [])
    assert.equal((await listLocks(deps)).length, 4)
    assert.ok((await listLocks(deps)).some((l) => l.metadata.name === unrelated.metadata.name))
    const [event] = await audits(h, 'bot.deleted')
    assert.deepEqual([event?.user, event?.bot, event?.tokens], ['admin', 'ci', 2])
  })

  it('ok/a lock on the user applies again when a bot of the same name comes back', async () => {
    await removeBot(h.service.deps, 'admin', 'example')
    await addLock(h.service.deps, 'admin', { target: { user: 'bot-example' }, message: 'gone' })
    const again = await addBot(h.service.deps, 'admin', { name: 'example', roles: ['access'] })
    await assert.rejects(h.client.join(again.token, newKey().publicPem, 3600), {
      code: 'ERR_ACCESS_DENIED',
      message: 'lock targeting user "bot-example" is in force: gone',
    })
  })

  it('ok/a lock on a removed instance keeps refusing its old identity when the name comes back', async () => {
    // Prepare: instance A of bot example, locked; the bot removed and added again.
    const { identity, response } = await joinedBot(h, ['access'])
    const instance = `example/${response.identity.bot_instance_id}`
    await addLock(h.service.deps, 'admin', { target: { bot_instance: instance }, message: 'stolen' })
    await removeBot(h.service.deps, 'admin', 'example')
    await addBot(h.service.deps, 'admin', { name: 'example', roles: ['access'] })
    // Act + Assess: A's certificate is still cryptographically valid; the lock refuses it.
    await assert.rejects(
      h.client.certs(identity, { publicKeyPem: newKey().publicPem, roles: ['access'], ttlSeconds: 600 }),
      { code: 'ERR_ACCESS_DENIED', message: `lock targeting bot instance "${instance}" is in force: stolen` },
    )
  })

  it('ok/a removed bot’s identity is refused at once (its derived user and role are gone)', async () => {
    const { identity } = await joinedBot(h, ['access'])
    await removeBot(h.service.deps, 'admin', 'example')
    await assert.rejects(
      h.client.certs(identity, { publicKeyPem: newKey().publicPem, roles: ['access'], ttlSeconds: 600 }),
      { code: 'ERR_ACCESS_DENIED', message: 'bot "example" no longer exists' },
    )
  })

  it('fail/an unknown bot, or removing twice, is ERR_NOT_FOUND; leftovers of a bot are still removed', async () => {
    await assert.rejects(removeBot(h.service.deps, 'admin', 'nobody'), {
      code: 'ERR_NOT_FOUND',
      message: 'bot "nobody" not found',
    })
    // Leftovers, as an interrupted removal would leave them: a token without its bot.
    await addJoinToken(h.service.deps, 'example')
    await h.service.deps.resources.delete('bot', 'example')
    const rest = await removeBot(h.service.deps, 'admin', 'example')
    assert.deepEqual([rest.bot, rest.tokens], [false, 1])
    await assert.rejects(removeBot(h.service.deps, 'admin', 'example'), { code: 'ERR_NOT_FOUND' })
  })
})
