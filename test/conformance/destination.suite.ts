/**
 * The Destination conformance suite: the contract of `lib/ports/destination.ts`, run against
 * every adapter.
 *
 * Not matched by the test glob (`*.test.ts`); each adapter's test file calls
 * {@link runDestinationConformance} with a factory that returns a fresh, empty destination.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe } from 'node:test'
import type { ArtifactContent, Destination } from '../../lib/ports/destination.ts'
import { skippableTest } from './skippable.ts'

export interface DestinationHarness {
  /** A fresh destination holding nothing. */
  destination: Destination
  /** Another destination over the same storage, or undefined when the adapter cannot share. */
  sibling?(): Destination
  /** A new instance over the same durable state (a restart); only durable adapters have it. */
  reopen?(): Destination
  cleanup(): Promise<void>
}

export interface DestinationConformanceOptions {
  /** Tests to skip, each with the reason. Keys are test names as written below. */
  skip?: Record<string, string>
  /**
   * The adapter makes one version per issuance (`WriteMeta.issuanceId`): a retried write of the
   * same issuance and content makes no new version and returns the first write's version id.
   */
  idempotentRetries?: boolean
}

const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes)

/** A set whose every artifact carries `marker`, so a mixed set is visible. */
function markedSet(marker: string, names: readonly string[]): Map<string, string> {
  return new Map(names.map((name) => [name, `${marker}:${name}`]))
}

/** Asserts that every artifact of `set` carries one marker, and returns it. */
function singleMarker(set: Map<string, Uint8Array>): string {
  const markers = new Set([...set].map(([name, bytes]) => text(bytes)?.replace(`:${name}`, '')))
  assert.equal(markers.size, 1, `one set must come from one write, got markers ${[...markers].join(', ')}`)
  return [...markers][0] ?? ''
}

export function runDestinationConformance(
  name: string,
  make: () => Promise<DestinationHarness>,
  options: DestinationConformanceOptions = {},
): void {
  describe(`Destination conformance: ${name}`, () => {
    let h: DestinationHarness
    let d: Destination
    const test = skippableTest(options.skip)

    beforeEach(async () => {
      h = await make()
      d = h.destination
    })
    afterEach(async () => {
      await h.cleanup()
    })

    test('reads before the first write find nothing', async () => {
      assert.equal(await d.read('key'), undefined)
      assert.deepEqual(await d.readAll(), new Map())
    })

    test('write then read round-trips; strings are stored as UTF-8', async () => {
      await d.write(
        new Map<string, ArtifactContent>([
          ['key', 'PEM żółw 🐢'],
          ['tlscert', 'cert'],
        ]),
      )
      assert.equal(text(await d.read('key')), 'PEM żółw 🐢')
      const all = await d.readAll()
      assert.deepEqual([...all.keys()], ['key', 'tlscert'])
      assert.equal(text(all.get('tlscert')), 'cert')
    })

    test('read of an artifact absent from the set is undefined', async () => {
      await d.write(new Map([['key', 'k']]))
      assert.equal(await d.read('tlscert'), undefined)
    })

    test('a write replaces the whole set', async () => {
      await d.write(markedSet('one', ['key', 'tlscert', 'known_hosts']))
      await d.write(markedSet('two', ['key', 'ssh_config']))
      const all = await d.readAll()
      assert.deepEqual([...all.keys()], ['key', 'ssh_config'])
      assert.equal(singleMarker(all), 'two')
      assert.equal(await d.read('known_hosts'), undefined)
    })

    test('binary content round-trips exactly, including empty artifacts', async () => {
      const every = Uint8Array.from({ length: 512 }, (_, i) => i % 256)
      await d.write(
        new Map<string, ArtifactContent>([
          ['blob.bin', every],
          ['empty', new Uint8Array(0)],
        ]),
      )
      assert.deepEqual(await d.read('blob.bin'), every)
      assert.deepEqual(await d.read('empty'), new Uint8Array(0))
    })

    test('content is copied on write and on read', async () => {
      const bytes = Uint8Array.of(1, 2, 3)
      await d.write(new Map([['key', bytes]]))
      bytes[0] = 9
      const read = await d.read('key')
      assert.deepEqual(read, Uint8Array.of(1, 2, 3))
      read?.fill(0)
      assert.deepEqual(await d.read('key'), Uint8Array.of(1, 2, 3))
    })

    test('bad artifact names are a TypeError and nothing is written', async () => {
      await d.write(new Map([['key', 'before']]))
      const bad = ['', '.', '..', '.hidden', 'a/b', '../key', 'a b', 'é', 'key\n', 'x'.repeat(129)]
      for (const n of bad) {
        await assert.rejects(
          d.write(
            new Map([
              ['tlscert', 'new'],
              [n, 'x'],
            ]),
          ),
          TypeError,
          JSON.stringify(n),
        )
        await assert.rejects(d.read(n), TypeError, JSON.stringify(n))
      }
      assert.deepEqual(await d.readAll(), new Map([['key', new TextEncoder().encode('before')]]))
    })

    test('malformed writes are a TypeError: empty set, bad value, bad issuance id', async () => {
      await assert.rejects(d.write(new Map()), TypeError)
      await assert.rejects(d.write(new Map([['key', 42 as unknown as string]])), TypeError)
      await assert.rejects(d.write(new Map([['key', 'k']]), { issuanceId: 'has space' }), TypeError)
      await d.write(new Map([['key', 'k']]), { issuanceId: 'iss-1:2' })
      assert.equal(text(await d.read('key')), 'k')
    })

    test('concurrent writes leave one complete set, and readers never see a mix', async () => {
      const names = (i: number) => ['key', 'tlscert', 'key-cert.pub', i % 2 ? 'known_hosts' : 'ssh_config']
      const writers = h.sibling ? [d, h.sibling(), h.sibling()] : [d]
      const snapshots: Map<string, Uint8Array>[] = []
      const writes = Array.from({ length: 12 }, (_, i) =>
        writers[i % writers.length]!.write(markedSet(`w${i}`, names(i))),
      )
      const reads = Array.from({ length: 12 }, async () => snapshots.push(await d.readAll()))
      await Promise.all([...writes, ...reads])
      for (const snap of [...snapshots.filter((s) => s.size > 0), await d.readAll()]) {
        const marker = singleMarker(snap)
        assert.deepEqual([...snap.keys()], [...names(Number(marker.slice(1)))].sort())
      }
    })

    test('every write returns a non-empty version id, and two writes differ', async () => {
      const first = await d.write(markedSet('one', ['key']), { issuanceId: 'iss-1' })
      const second = await d.write(markedSet('two', ['key']), { issuanceId: 'iss-2' })
      for (const { versionId } of [first, second]) {
        assert.equal(typeof versionId, 'string')
        assert.ok(versionId.length > 0, 'a version id is never empty')
      }
      assert.notEqual(second.versionId, first.versionId)
    })

    test('a retried write of one issuance returns the first version id where writes are idempotent', async () => {
      const set = markedSet('one', ['key', 'tlscert'])
      const first = await d.write(set, { issuanceId: 'iss-retried' })
      const retry = await d.write(set, { issuanceId: 'iss-retried' })
      if (options.idempotentRetries) assert.equal(retry.versionId, first.versionId)
      else
        assert.notEqual(retry.versionId, first.versionId, 'a write that is not idempotent is a new version')
      assert.equal(singleMarker(await d.readAll()), 'one')
    })

    test('describe names the destination', async () => {
      assert.match(d.describe(), /\S/)
    })

    test('the set survives a restart', async () => {
      assert.ok(h.reopen, 'durable adapters provide reopen()')
      await d.write(markedSet('kept', ['key', 'tlscert']))
      const again = h.reopen()
      assert.equal(singleMarker(await again.readAll()), 'kept')
    })
  })
}
