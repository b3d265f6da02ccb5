import assert from 'node:assert/strict'
import { beforeEach, describe, it } from 'node:test'
import { MemoryStore } from '../../../lib/adapters/memory/store.ts'
import { ManualClock } from '../../../lib/clock.ts'
import type { Role } from '../../../lib/resources/types.ts'
import { ResourceService } from '../../../lib/services/resource-service.ts'

const START = Date.UTC(2026, 0, 1)
const ID_A = '3f2c0b7e-8d1a-4c56-9e0f-2b7a4d1c9e85'
const ID_B = '9a1d2c3b-4e5f-4a6b-8c7d-0e1f2a3b4c5d'

const roleDoc = (name: string, logins: string[] = ['alice'], metadata: object = {}) => ({
  kind: 'role',
  version: 'v1',
  metadata: { name, ...metadata },
  spec: { allow: { logins } },
})
const instanceDoc = (bot: string, id: string) => ({
  kind: 'bot_instance',
  version: 'v1',
  metadata: { name: id },
  spec: { bot_name: bot, instance_id: id },
})

describe('Class: ResourceService', () => {
  let clock: ManualClock
  let store: MemoryStore
  let service: ResourceService

  beforeEach(() => {
    clock = new ManualClock(START)
    store = new MemoryStore({ clock })
    service = new ResourceService({ store, clock })
  })

  /** Every key in the store, across the namespaces used here. */
  async function storedKeys(): Promise<string[]> {
    const keys: string[] = []
    for (const ns of ['role/', 'bot/', 'token/', 'bot_instance/', 'db/', 'node/', 'lock/']) {
      const page = await store.list(ns)
      keys.push(...page.items.map((i) => i.key))
    }
    return keys
  }

  describe('Method: create / get', () => {
    it('ok/stores canonical JSON without the revision and reads it back with one', async () => {
      const created = await service.create(roleDoc('access', ['alice'], { revision: 'ignored' }))
      assert.ok(created.metadata.revision && created.metadata.revision !== 'ignored')

      const item = await store.get('role/access')
      assert.ok(item)
      const stored = JSON.parse(item.value)
      assert.equal(stored.metadata.revision, undefined)
      assert.deepEqual(stored.spec.deny.logins, [])
      assert.deepEqual(stored.spec.allow.node_labels, {})

      const got = await service.get('role', 'access')
      const role: Role = got // typed by kind
      assert.equal(role.metadata.revision, item.revision)
      assert.deepEqual(role, created)
    })

    it('fail/create twice is ERR_ALREADY_EXISTS naming the resource', async () => {
      await service.create(roleDoc('access'))
      await assert.rejects(service.create(roleDoc('access')), {
        code: 'ERR_ALREADY_EXISTS',
        message: 'role "access" already exists',
      })
    })

    it('fail/get of a missing resource is ERR_NOT_FOUND, worded like the guide', async () => {
      await assert.rejects(service.get('role', 'admin'), {
        code: 'ERR_NOT_FOUND',
        message: 'role "admin" not found',
      })
      await assert.rejects(service.get('db', 'example'), {
        code: 'ERR_NOT_FOUND',
        message: 'database "example" not found',
      })
    })

    it('fail/token names are never echoed', async () => {
      await assert.rejects(service.get('token', 's3cr3t'), (err: Error) => {
        assert.equal((err as { code?: string }).code, 'ERR_NOT_FOUND')
        assert.ok(!err.message.includes('s3cr3t'))
        return true
      })
    })

    it('fail/an invalid name is a bad request', async () => {
      await assert.rejects(service.get('role', 'a b'), { code: 'ERR_BAD_REQUEST' })
    })
  })

  describe('Method: update (compare-and-swap)', () => {
    it('ok/updates at the current revision and returns a new one', async () => {
      const v1 = await service.create(roleDoc('access'))
      const v2 = await service.update(roleDoc('access', ['bob']), {
        revision: v1.metadata.revision as string,
      })
      assert.notEqual(v2.metadata.revision, v1.metadata.revision)
      const role = await service.get('role', 'access')
      assert.deepEqual(role.spec.allow.logins, ['bob'])
    })

    it('ok/the document revision is used when no option is given (get, edit, update)', async () => {
      await service.create(roleDoc('access'))
      const role = await service.get('role', 'access')
      const edited: Role = { ...role, spec: { ...role.spec, options: { max_session_ttl: '1h' } } }
      const updated = await service.update(edited)
      assert.equal(updated.spec.options.max_session_ttl, '1h')
    })

    it('fail/a stale revision is ERR_REVISION_MISMATCH and changes nothing', async () => {
      const v1 = await service.create(roleDoc('access'))
      await service.update(roleDoc('access', ['bob']), { revision: v1.metadata.revision as string })
      await assert.rejects(
        service.update(roleDoc('access', ['eve']), { revision: v1.metadata.revision as string }),
        {
          code: 'ERR_REVISION_MISMATCH',
          message: /role "access" was changed/,
        },
      )
      assert.deepEqual((await service.get('role', 'access')).spec.allow.logins, ['bob'])
    })

    it('fail/updating a missing resource is ERR_REVISION_MISMATCH', async () => {
      await assert.rejects(service.update(roleDoc('ghost'), { revision: 'r' }), {
        code: 'ERR_REVISION_MISMATCH',
      })
      assert.deepEqual(await storedKeys(), [])
    })

    it('fail/without any revision', async () => {
      await service.create(roleDoc('access'))
      await assert.rejects(service.update(roleDoc('access')), {
        code: 'ERR_INVALID_RESOURCE',
        field: 'metadata.revision',
      })
    })
  })

  describe('Method: upsert / delete', () => {
    it('ok/upsert creates then replaces', async () => {
      await service.upsert(roleDoc('access'))
      await service.upsert(roleDoc('access', ['bob']))
      assert.deepEqual((await service.get('role', 'access')).spec.allow.logins, ['bob'])
    })

    it('ok/delete, then the resource is gone', async () => {
      await service.create(roleDoc('access'))
      await service.delete('role', 'access')
      await assert.rejects(service.get('role', 'access'), { code: 'ERR_NOT_FOUND' })
      await assert.rejects(service.delete('role', 'access'), {
        code: 'ERR_NOT_FOUND',
        message: 'role "access" not found',
      })
    })

    it('ok/conditional delete at the current revision; fail at a stale one', async () => {
      const v1 = await service.create(roleDoc('access'))
      const v2 = await service.upsert(roleDoc('access', ['bob']))
      await assert.rejects(service.delete('role', 'access', { revision: v1.metadata.revision as string }), {
        code: 'ERR_REVISION_MISMATCH',
      })
      await service.delete('role', 'access', { revision: v2.metadata.revision as string })
      assert.deepEqual(await storedKeys(), [])
    })
  })

  describe('Expiry: metadata.expires', () => {
    it('ok/becomes the store expiry; advancing the clock past it hides the resource', async () => {
      const expires = new Date(START + 60_000).toISOString()
      await service.create(roleDoc('temp', ['alice'], { expires }))
      const item = await store.get('role/temp')
      assert.equal(item?.expires?.toISOString(), expires)

      clock.advance(59_999)
      assert.equal((await service.get('role', 'temp')).metadata.expires, expires)
      clock.advance(1)
      await assert.rejects(service.get('role', 'temp'), {
        code: 'ERR_NOT_FOUND',
        message: 'role "temp" not found',
      })
      assert.deepEqual((await service.list('role')).items, [])
      // The name is free again.
      await service.create(roleDoc('temp'))
    })

    it('fail/a document that has already expired is rejected and not written', async () => {
      await assert.rejects(service.create(roleDoc('old', [], { expires: '2025-12-31T23:59:59Z' })), {
        code: 'ERR_INVALID_RESOURCE',
        field: 'metadata.expires',
      })
      assert.deepEqual(await storedKeys(), [])
    })
  })

  describe('Method: list', () => {
    it('ok/pages through every resource in name order', async () => {
      const names = Array.from({ length: 7 }, (_, i) => `role-${i}`)
      for (const name of [...names].reverse()) await service.create(roleDoc(name))
      await service.create({ kind: 'bot', version: 'v1', metadata: { name: 'not-a-role' }, spec: {} })

      const seen: string[] = []
      let cursor: string | undefined
      let pages = 0
      do {
        const page = await service.list('role', { limit: 3, ...(cursor && { cursor }) })
        for (const role of page.items) {
          assert.equal(role.kind, 'role')
          assert.ok(role.metadata.revision)
          seen.push(role.metadata.name)
        }
        cursor = page.nextCursor
        pages++
      } while (cursor)
      assert.deepEqual(seen, names)
      assert.ok(pages >= 3)
    })

    it('ok/name prefix', async () => {
      for (const name of ['machine-id-db', 'machine-id-k8s', 'access']) await service.create(roleDoc(name))
      const page = await service.list('role', { prefix: 'machine-' })
      assert.deepEqual(
        page.items.map((r) => r.metadata.name),
        ['machine-id-db', 'machine-id-k8s'],
      )
    })

    it('fail/bad limit or cursor is ERR_BAD_REQUEST', async () => {
      await assert.rejects(service.list('role', { limit: 0 }), { code: 'ERR_BAD_REQUEST' })
      await assert.rejects(service.list('role', { cursor: '!!' }), { code: 'ERR_BAD_REQUEST' })
    })
  })

  describe('Kind: bot_instance', () => {
    it('ok/get and delete by <bot>/<id>; list one bot by prefix', async () => {
      await service.create(instanceDoc('ci', ID_A))
      await service.create(instanceDoc('ci', ID_B))
      await service.create(instanceDoc('cid', ID_A))

      const got = await service.get('bot_instance', `ci/${ID_A}`)
      assert.equal(got.spec.bot_name, 'ci')
      assert.equal(got.status.generation, 0)

      const ci = await service.list('bot_instance', { prefix: 'ci/' })
      assert.deepEqual(
        ci.items.map((i) => i.metadata.name),
        [ID_A, ID_B],
      )

      await service.delete('bot_instance', `ci/${ID_A}`)
      await assert.rejects(service.get('bot_instance', `ci/${ID_A}`), {
        code: 'ERR_NOT_FOUND',
        message: `bot instance "ci/${ID_A}" not found`,
      })
      assert.equal((await service.get('bot_instance', `cid/${ID_A}`)).spec.bot_name, 'cid')
    })
  })

  describe('Validation before every write', () => {
    const invalid = [
      ['unknown field', { ...roleDoc('bad'), extra: true }],
      ['bad selector', { ...roleDoc('bad'), spec: { allow: { db_labels: { env: '^dev$' } } } }],
      ['wrong kind', { ...roleDoc('bad'), kind: 'rol' }],
    ] as const

    for (const [name, doc] of invalid) {
      it(`fail/${name}: nothing is written by create, upsert or update`, async () => {
        await assert.rejects(service.create(doc), { code: 'ERR_INVALID_RESOURCE' })
        await assert.rejects(service.upsert(doc), { code: 'ERR_INVALID_RESOURCE' })
        await assert.rejects(service.update(doc, { revision: 'r' }), { code: 'ERR_INVALID_RESOURCE' })
        assert.deepEqual(await storedKeys(), [])
      })
    }

    it('fail/a rejected update leaves the stored document untouched', async () => {
      const v1 = await service.create(roleDoc('access'))
      await assert.rejects(
        service.update(
          { ...roleDoc('access'), spec: { allow: { logins: ['bad login'] } } },
          {
            revision: v1.metadata.revision as string,
          },
        ),
        { code: 'ERR_INVALID_RESOURCE', field: 'spec.allow.logins[0]' },
      )
      assert.deepEqual(await service.get('role', 'access'), v1)
      assert.deepEqual(await storedKeys(), ['role/access'])
    })
  })

  describe('Reading what is stored', () => {
    it("fail/a corrupt stored value is a store failure, not the caller's invalid input", async () => {
      await store.put('role/broken', '{"kind":"role"')
      await store.put(
        'role/other',
        JSON.stringify({ kind: 'bot', version: 'v1', metadata: { name: 'other' }, spec: {} }),
      )
      await assert.rejects(service.get('role', 'broken'), { code: 'ERR_STORE_UNAVAILABLE' })
      await assert.rejects(service.get('role', 'other'), { code: 'ERR_STORE_UNAVAILABLE' })
    })
  })
})
