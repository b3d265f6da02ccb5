/**
 * Listing and reading registered resources (db, kube_cluster, app, node) through the API shows
 * exactly what the caller's roles — or roles it may impersonate, with `?as_roles=` — can see; an
 * invisible resource reads as missing. The guide's database case: the bot's own role sees no
 * database, `machine-id-db` sees `example`, `access` (node rules only) does not.
 */
import assert from 'node:assert/strict'
import { beforeEach, describe, it } from 'node:test'
import type { ClientIdentity } from '../../lib/bot/auth-client.ts'
import { type AuthHarness, authHarness, joinedBot } from '../helpers/auth-harness.ts'

let h: AuthHarness
let bot: ClientIdentity

beforeEach(async () => {
  h = await authHarness()
  bot = (await joinedBot(h)).identity
})

async function refused(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  return promise.then(
    () => assert.fail('must be refused'),
    (err: { code: string; message: string }) => err,
  )
}

const names = (body: { items: Array<{ metadata: { name: string } }> }) =>
  body.items.map((i) => i.metadata.name)

describe('GET /v1/resources/:kind for registered kinds', () => {
  it('ok/a bot sees no database with its own role, and sees example through machine-id-db', async () => {
    const own = await h.client.request<{ items: [] }>(bot, 'GET', '/v1/resources/db')
    assert.deepEqual(own.items, [])
    const asDb = await h.client.request<{ items: Array<{ metadata: { name: string } }> }>(
      bot,
      'GET',
      '/v1/resources/db?as_roles=machine-id-db',
    )
    assert.deepEqual(names(asDb), ['example'])
    const asAccess = await h.client.request<{ items: [] }>(bot, 'GET', '/v1/resources/db?as_roles=access')
    assert.deepEqual(asAccess.items, [])
    const nodes = await h.client.request<{ items: Array<{ metadata: { name: string } }> }>(
      bot,
      'GET',
      '/v1/resources/node?as_roles=access',
    )
    assert.deepEqual(names(nodes), ['localhost'])
  })

  it('fail/reading an invisible database is ERR_NOT_FOUND, exactly as a missing one', async () => {
    const hidden = await refused(h.client.request(bot, 'GET', '/v1/resources/db/example?as_roles=access'))
    const missing = await refused(
      h.client.request(bot, 'GET', '/v1/resources/db/nope?as_roles=machine-id-db'),
    )
    assert.equal(hidden.code, 'ERR_NOT_FOUND')
    assert.equal(hidden.message, 'database "example" not found')
    assert.equal(missing.code, 'ERR_NOT_FOUND')
    assert.equal(missing.message, 'database "nope" not found')
    const visible = await h.client.request<{ metadata: { name: string } }>(
      bot,
      'GET',
      '/v1/resources/db/example?as_roles=machine-id-db',
    )
    assert.equal(visible.metadata.name, 'example')
  })

  it('fail/an invisible app and a missing one read the same (names do not leak)', async () => {
    await h.service.deps.resources.create({
      kind: 'app',
      version: 'v1',
      metadata: { name: 'secret-app', labels: {} },
      spec: { uri: 'http://127.0.0.1:8080' },
    })
    const hidden = await refused(h.client.request(bot, 'GET', '/v1/resources/app/secret-app'))
    const missing = await refused(h.client.request(bot, 'GET', '/v1/resources/app/nope'))
    assert.equal(hidden.message, 'application "secret-app" not found')
    assert.equal(missing.message, 'application "nope" not found')
    assert.equal(hidden.code, missing.code)
  })

  it('fail/viewing as a role the caller may not impersonate is ERR_ACCESS_DENIED', async () => {
    const err = await refused(h.client.request(bot, 'GET', '/v1/resources/db?as_roles=admin'))
    assert.equal(err.code, 'ERR_ACCESS_DENIED')
    assert.match(err.message, /may not view as admin/)
  })

  it('ok/labels filter: a role matching env=prod only does not see the env=dev database', async () => {
    await h.service.deps.resources.create({
      kind: 'role',
      version: 'v1',
      metadata: { name: 'prod-db', labels: {} },
      spec: {
        allow: { db_labels: { env: 'prod' }, rules: [{ resources: ['db'], verbs: ['list'] }] },
      },
    })
    const b = await h.service.deps.resources.get('bot', 'example')
    await h.service.deps.resources.update({ ...b, spec: { ...b.spec, roles: [...b.spec.roles, 'prod-db'] } })
    const prod = await h.client.request<{ items: [] }>(bot, 'GET', '/v1/resources/db?as_roles=prod-db')
    assert.deepEqual(prod.items, [])
  })
})
