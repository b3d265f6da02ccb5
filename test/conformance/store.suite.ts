/**
 * The Store conformance suite: the contract of `lib/ports/store.ts`, run against every adapter.
 *
 * This file is not matched by the test glob (`*.test.ts`); each adapter's test file calls
 * {@link runStoreConformance} with a factory. Every test works under its own random namespace, so
 * the suite is safe on a shared table.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe } from 'node:test'
import type { ManualClock } from '../../lib/clock.ts'
import { MAX_KEY_LENGTH, MAX_LIST_LIMIT, MAX_VALUE_BYTES, type Store } from '../../lib/ports/store.ts'
import { skippableTest } from './skippable.ts'

export interface StoreHarness {
  store: Store
  /** The clock the store compares expiry against. */
  clock: ManualClock
  cleanup(): Promise<void>
  /**
   * Closes the store and opens a fresh instance over the same durable state (a restart). Only
   * durable adapters provide it; the durability tests are skipped without it.
   */
  reopen?(): Promise<Store>
}

export interface ConformanceOptions {
  /**
   * Tests to skip, each with the reason. Keys are test names as written below. Adapters without
   * durable state skip 'items, revisions and expiry survive a restart'.
   */
  skip?: Record<string, string>
}

const HOUR = 3_600_000

/** Asserts that `promise` rejects with a BrokerError carrying `code`. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal((err as { code?: string }).code, code, `expected ${code}, got ${String(err)}`)
    return true
  })
}

export function runStoreConformance(
  name: string,
  make: () => Promise<StoreHarness>,
  options: ConformanceOptions = {},
): void {
  describe(`Store conformance: ${name}`, () => {
    let h: StoreHarness
    let ns: string
    const key = (suffix: string) => `${ns}/${suffix}`
    const test = skippableTest(options.skip)

    beforeEach(async () => {
      h = await make()
      ns = `t${randomBytes(6).toString('hex')}`
    })
    afterEach(async () => {
      await h.cleanup()
    })

    describe('get / put', () => {
      test('get of an absent key is undefined', async () => {
        assert.equal(await h.store.get(key('missing')), undefined)
      })

      test('put then get returns value and revision', async () => {
        const { revision } = await h.store.put(key('a'), 'hello')
        const item = await h.store.get(key('a'))
        assert.deepEqual(item, { key: key('a'), value: 'hello', revision })
      })

      test('put replaces value and yields a new revision', async () => {
        const first = await h.store.put(key('a'), 'one')
        const second = await h.store.put(key('a'), 'two')
        assert.notEqual(first.revision, second.revision)
        assert.equal((await h.store.get(key('a')))?.value, 'two')
      })

      test('values round-trip exactly, including non-ASCII text', async () => {
        const value = JSON.stringify({ pem: '-----BEGIN-----\nAAA=\n', name: 'żółw 🐢', empty: '' })
        await h.store.put(key('json'), value)
        assert.equal((await h.store.get(key('json')))?.value, value)
        await h.store.put(key('empty'), '')
        assert.equal((await h.store.get(key('empty')))?.value, '')
      })

      test('put without expiry clears a previous expiry', async () => {
        await h.store.put(key('a'), 'v1', { expires: new Date(h.clock.now().getTime() + HOUR) })
        await h.store.put(key('a'), 'v2')
        h.clock.advance(2 * HOUR)
        assert.equal((await h.store.get(key('a')))?.value, 'v2')
      })
    })

    describe('create', () => {
      test('create writes an absent key', async () => {
        const { revision } = await h.store.create(key('c'), 'x')
        assert.equal((await h.store.get(key('c')))?.revision, revision)
      })

      test('create rejects an existing key with ERR_ALREADY_EXISTS and keeps the value', async () => {
        await h.store.create(key('c'), 'x')
        await rejectsWith(h.store.create(key('c'), 'y'), 'ERR_ALREADY_EXISTS')
        assert.equal((await h.store.get(key('c')))?.value, 'x')
      })

      test('create succeeds over an expired item', async () => {
        await h.store.create(key('c'), 'old', { expires: new Date(h.clock.now().getTime() + 1000) })
        h.clock.advance(1000)
        await h.store.create(key('c'), 'new')
        assert.equal((await h.store.get(key('c')))?.value, 'new')
      })

      test('concurrent creates of one key: exactly one wins', async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) => h.store.create(key('race'), `v${i}`)),
        )
        const won = results.filter((r) => r.status === 'fulfilled')
        assert.equal(won.length, 1)
        for (const r of results) {
          if (r.status === 'rejected') assert.equal((r.reason as { code: string }).code, 'ERR_ALREADY_EXISTS')
        }
      })
    })

    describe('compareAndSwap', () => {
      test('swaps when the revision matches', async () => {
        const { revision } = await h.store.put(key('s'), 'v1')
        const next = await h.store.compareAndSwap(key('s'), revision, 'v2')
        assert.notEqual(next.revision, revision)
        assert.deepEqual(await h.store.get(key('s')), { key: key('s'), value: 'v2', revision: next.revision })
      })

      test('rejects a stale revision with ERR_REVISION_MISMATCH and writes nothing', async () => {
        const { revision } = await h.store.put(key('s'), 'v1')
        await h.store.put(key('s'), 'v2')
        await rejectsWith(h.store.compareAndSwap(key('s'), revision, 'v3'), 'ERR_REVISION_MISMATCH')
        assert.equal((await h.store.get(key('s')))?.value, 'v2')
      })

      test('rejects an absent key with ERR_REVISION_MISMATCH', async () => {
        await rejectsWith(h.store.compareAndSwap(key('none'), 'r1', 'v'), 'ERR_REVISION_MISMATCH')
        assert.equal(await h.store.get(key('none')), undefined)
      })

      test('rejects an expired item with ERR_REVISION_MISMATCH', async () => {
        const { revision } = await h.store.put(key('s'), 'v1', {
          expires: new Date(h.clock.now().getTime() + 1000),
        })
        h.clock.advance(1001)
        await rejectsWith(h.store.compareAndSwap(key('s'), revision, 'v2'), 'ERR_REVISION_MISMATCH')
      })

      test('concurrent swaps from one revision: exactly one wins', async () => {
        const { revision } = await h.store.put(key('s'), 'v0')
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) => h.store.compareAndSwap(key('s'), revision, `v${i + 1}`)),
        )
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
      })

      test('can set and clear an expiry', async () => {
        const { revision } = await h.store.put(key('s'), 'v1')
        const later = new Date(h.clock.now().getTime() + HOUR)
        const r2 = await h.store.compareAndSwap(key('s'), revision, 'v2', { expires: later })
        assert.equal((await h.store.get(key('s')))?.expires?.getTime(), later.getTime())
        await h.store.compareAndSwap(key('s'), r2.revision, 'v3')
        assert.equal((await h.store.get(key('s')))?.expires, undefined)
      })
    })

    describe('delete', () => {
      test('delete removes an item', async () => {
        await h.store.put(key('d'), 'v')
        await h.store.delete(key('d'))
        assert.equal(await h.store.get(key('d')), undefined)
      })

      test('delete of an absent key fails with ERR_NOT_FOUND', async () => {
        await rejectsWith(h.store.delete(key('none')), 'ERR_NOT_FOUND')
      })

      test('delete of an expired item fails with ERR_NOT_FOUND', async () => {
        await h.store.put(key('d'), 'v', { expires: new Date(h.clock.now().getTime() + 10) })
        h.clock.advance(10)
        await rejectsWith(h.store.delete(key('d')), 'ERR_NOT_FOUND')
      })

      test('conditional delete succeeds at the current revision', async () => {
        const { revision } = await h.store.put(key('d'), 'v')
        await h.store.delete(key('d'), { revision })
        assert.equal(await h.store.get(key('d')), undefined)
      })

      test('conditional delete at a stale revision fails and keeps the item', async () => {
        const { revision } = await h.store.put(key('d'), 'v1')
        await h.store.put(key('d'), 'v2')
        await rejectsWith(h.store.delete(key('d'), { revision }), 'ERR_REVISION_MISMATCH')
        assert.equal((await h.store.get(key('d')))?.value, 'v2')
      })

      test('conditional delete of an absent key fails with ERR_REVISION_MISMATCH', async () => {
        await rejectsWith(h.store.delete(key('none'), { revision: 'r' }), 'ERR_REVISION_MISMATCH')
      })

      test('concurrent conditional deletes: exactly one wins (single-use consumption)', async () => {
        const { revision } = await h.store.put(key('token'), 'secret')
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, () => h.store.delete(key('token'), { revision })),
        )
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
      })
    })

    describe('expiry', () => {
      test('an item is visible until its expiry and invisible from that instant', async () => {
        const expires = new Date(h.clock.now().getTime() + 5000)
        await h.store.put(key('e'), 'v', { expires })
        assert.equal((await h.store.get(key('e')))?.expires?.getTime(), expires.getTime())
        h.clock.advance(4999)
        assert.equal((await h.store.get(key('e')))?.value, 'v')
        h.clock.advance(1)
        assert.equal(await h.store.get(key('e')), undefined)
      })

      test('an item created already expired is invisible', async () => {
        await h.store.put(key('e'), 'v', { expires: new Date(h.clock.now().getTime() - 1) })
        assert.equal(await h.store.get(key('e')), undefined)
      })

      test('expired items are left out of list', async () => {
        await h.store.put(key('l/1'), 'a')
        await h.store.put(key('l/2'), 'b', { expires: new Date(h.clock.now().getTime() + 1000) })
        await h.store.put(key('l/3'), 'c')
        h.clock.advance(1000)
        const page = await h.store.list(key('l/'))
        assert.deepEqual(
          page.items.map((i) => i.key),
          [key('l/1'), key('l/3')],
        )
      })
    })

    describe('list', () => {
      test('lists by prefix in ascending key order', async () => {
        for (const k of ['b', 'a/2', 'a/10', 'a/1', 'ab', 'c']) await h.store.put(key(k), k)
        const page = await h.store.list(key('a'))
        assert.deepEqual(
          page.items.map((i) => i.key),
          [key('a/1'), key('a/10'), key('a/2'), key('ab')],
        )
        assert.equal(page.nextCursor, undefined)
        assert.deepEqual(
          page.items.map((i) => i.value),
          ['a/1', 'a/10', 'a/2', 'ab'],
        )
      })

      test('an empty prefix match gives an empty page without a cursor', async () => {
        const page = await h.store.list(key('nothing/'))
        assert.deepEqual(page, { items: [] })
      })

      test('paginates with a cursor and visits every item once', async () => {
        const keys = Array.from({ length: 23 }, (_, i) => key(`p/${String(i).padStart(3, '0')}`))
        for (const k of keys) await h.store.put(k, 'v')
        const seen: string[] = []
        let cursor: string | undefined
        let pages = 0
        do {
          const page = await h.store.list(
            key('p/'),
            cursor === undefined ? { limit: 5 } : { limit: 5, cursor },
          )
          assert.ok(page.items.length <= 5)
          seen.push(...page.items.map((i) => i.key))
          cursor = page.nextCursor
          pages++
        } while (cursor !== undefined && pages < 50)
        assert.deepEqual(seen, keys)
      })

      test('pagination continues correctly after the last item of a page is deleted', async () => {
        for (const k of ['1', '2', '3', '4']) await h.store.put(key(`q/${k}`), k)
        const first = await h.store.list(key('q/'), { limit: 2 })
        assert.ok(first.nextCursor)
        await h.store.delete(key('q/2'))
        const second = await h.store.list(key('q/'), { limit: 2, cursor: first.nextCursor })
        assert.deepEqual(
          second.items.map((i) => i.key),
          [key('q/3'), key('q/4')],
        )
      })

      test('rejects a malformed cursor and a cursor from another prefix', async () => {
        await h.store.put(key('x/1'), 'v')
        await h.store.put(key('x/2'), 'v')
        await rejectsWith(h.store.list(key('x/'), { cursor: '%%%' }), 'ERR_BAD_REQUEST')
        const page = await h.store.list(key('x/'), { limit: 1 })
        assert.ok(page.nextCursor)
        await rejectsWith(h.store.list(key('y/'), { cursor: page.nextCursor }), 'ERR_BAD_REQUEST')
      })

      test('rejects limits outside 1..MAX_LIST_LIMIT', async () => {
        await rejectsWith(h.store.list(key('x/'), { limit: 0 }), 'ERR_BAD_REQUEST')
        await rejectsWith(h.store.list(key('x/'), { limit: MAX_LIST_LIMIT + 1 }), 'ERR_BAD_REQUEST')
        await rejectsWith(h.store.list(key('x/'), { limit: 1.5 }), 'ERR_BAD_REQUEST')
      })

      test('list items carry revision and expiry', async () => {
        const expires = new Date(h.clock.now().getTime() + HOUR)
        const { revision } = await h.store.put(key('r/1'), 'v', { expires })
        const [item] = (await h.store.list(key('r/'))).items
        assert.equal(item?.revision, revision)
        assert.equal(item?.expires?.getTime(), expires.getTime())
      })
    })

    describe('input checks', () => {
      test('rejects keys without a namespace, with spaces, non-ASCII or too long', async () => {
        for (const bad of ['nokey', '', 'a/b c', 'a/ż', `a/${'x'.repeat(MAX_KEY_LENGTH)}`]) {
          await rejectsWith(h.store.put(bad, 'v'), 'ERR_INVALID_KEY')
          await rejectsWith(h.store.get(bad), 'ERR_INVALID_KEY')
        }
        await rejectsWith(h.store.list('noslash'), 'ERR_INVALID_KEY')
      })

      test('rejects oversized values with ERR_TOO_LARGE and writes nothing', async () => {
        await rejectsWith(h.store.put(key('big'), 'x'.repeat(MAX_VALUE_BYTES + 1)), 'ERR_TOO_LARGE')
        await rejectsWith(h.store.create(key('big'), 'é'.repeat(MAX_VALUE_BYTES / 2 + 1)), 'ERR_TOO_LARGE')
        assert.equal(await h.store.get(key('big')), undefined)
        await h.store.put(key('max'), 'x'.repeat(MAX_VALUE_BYTES))
        assert.equal((await h.store.get(key('max')))?.value.length, MAX_VALUE_BYTES)
      })
    })

    describe('durability', () => {
      test('items, revisions and expiry survive a restart', async () => {
        assert.ok(h.reopen, 'a durable adapter must provide reopen(); others list this test in skip')
        const expires = new Date(h.clock.now().getTime() + HOUR)
        const { revision } = await h.store.put(key('keep'), 'v', { expires })
        h.store = await h.reopen()
        assert.deepEqual(await h.store.get(key('keep')), { key: key('keep'), value: 'v', revision, expires })
        h.clock.advance(HOUR)
        assert.equal(await h.store.get(key('keep')), undefined)
      })
    })
  })
}
