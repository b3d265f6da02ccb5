/**
 * The storage lease (lib/bot/leased-storage.ts) between two "processes" in one: two LeasedStorage
 * instances with their own holder ids, hosts and pids over one storage, on a ManualClock, with the
 * settle wait injected. Every case runs on a directory storage (two adapter instances on one
 * path, as two processes would have) and on one shared memory destination standing in for a
 * Secrets Manager secret (the SM adapter passes the same destination conformance suite).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { DirectoryDestination } from '../../../lib/adapters/directory/destination.ts'
import { MemoryDestination } from '../../../lib/adapters/memory/destination.ts'
import { StorageInUseError } from '../../../lib/bot/lease-error.ts'
import { LEASE_ARTIFACT, type LeaseMode, parseLease } from '../../../lib/bot/lease-record.ts'
import { LeasedStorage } from '../../../lib/bot/leased-storage.ts'
import { ManualClock } from '../../../lib/clock.ts'
import { createLogger } from '../../../lib/log.ts'
import type { ArtifactContent, Destination, WriteMeta } from '../../../lib/ports/destination.ts'
import { sequenceRandom } from '../../../lib/random.ts'

const MINUTE = 60_000
const INTERVAL = 20 * MINUTE

interface Backend {
  readonly name: string
  /** What one process opens: its own adapter instance on the shared storage. */
  readonly open: () => Destination
  readonly cleanUp: () => void
}

const BACKENDS: readonly { name: string; make: (clock: ManualClock) => Backend }[] = [
  {
    name: 'directory',
    make: (clock) => {
      const dir = mkdtempSync(join(tmpdir(), 'credbroker-lease-'))
      return {
        name: 'directory',
        open: () => new DirectoryDestination({ path: dir, clock }),
        cleanUp: () => rmSync(dir, { recursive: true, force: true }),
      }
    },
  },
  {
    name: 'Secrets Manager stand-in',
    make: () => {
      const secret = new MemoryDestination({ label: 'bot-storage-secret' })
      return { name: 'memory', open: () => secret, cleanUp: () => {} }
    },
  },
]

/** Counts the writes a process makes, and can hold its first `readAll` at a barrier. */
class Probe implements Destination {
  writes = 0
  holdFirstRead: (() => Promise<void>) | undefined
  readonly inner: Destination
  constructor(inner: Destination) {
    this.inner = inner
  }
  async write(artifacts: ReadonlyMap<string, ArtifactContent>, meta?: WriteMeta) {
    this.writes++
    return this.inner.write(artifacts, meta)
  }
  read(name: string) {
    return this.inner.read(name)
  }
  async readAll() {
    const set = await this.inner.readAll()
    const hold = this.holdFirstRead
    this.holdFirstRead = undefined
    await hold?.()
    return set
  }
  describe() {
    return this.inner.describe()
  }
}

/** Resolves for everyone once `n` callers have arrived. */
function barrier(n: number): () => Promise<void> {
  let arrived = 0
  let open = () => {}
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return () => {
    if (++arrived >= n) open()
    return opened
  }
}

for (const { name, make } of BACKENDS) {
  describe(`Class: LeasedStorage (${name})`, () => {
    let clock: ManualClock
    let backend: Backend
    let lines: string[]
    beforeEach(() => {
      clock = new ManualClock(Date.UTC(2026, 10, 22, 12))
      backend = make(clock)
      lines = []
    })
    afterEach(() => backend.cleanUp())

    /** A bot process on the shared storage. */
    function botProcess(
      pid: number,
      mode: LeaseMode = 'daemon',
      sleep: (ms: number) => Promise<void> = async () => {},
    ) {
      const probe = new Probe(backend.open())
      const storage = new LeasedStorage(probe, {
        mode,
        renewalIntervalMs: INTERVAL,
        clock,
        log: createLogger('debug', (line) => lines.push(`[${pid}] ${line}`)),
        random: sequenceRandom(pid),
        host: `host-${pid}`,
        pid,
        sleep,
      })
      return { storage, probe }
    }

    const inUse = (where: string, host: string, pid: number, since: Date, until: Date) =>
      `the bot storage ${where} is in use by another bot process (host ${host}, pid ${pid}, ` +
      `since ${since.toISOString()}, until ${until.toISOString()}); give each bot its own storage`

    const storedLease = async () => {
      const bytes = await backend.open().read(LEASE_ARTIFACT)
      return bytes && parseLease(bytes)
    }

    it('ok/a restarted process on the same host takes over from a dead holder at once; a live one, or another host, is refused', async () => {
      // The first process (pid 101 on host "shared") holds the lease, then is SIGKILLed.
      const onHost = (pid: number, alive: (pid: number) => boolean) =>
        new LeasedStorage(backend.open(), {
          mode: 'daemon',
          renewalIntervalMs: INTERVAL,
          clock,
          log: createLogger('debug', (line) => lines.push(`[${pid}] ${line}`)),
          random: sequenceRandom(pid),
          host: 'shared',
          pid,
          sleep: async () => {},
          isProcessAlive: alive,
        })
      await onHost(101, () => true).acquire()
      clock.advance(MINUTE)

      // Still alive: refused, as two live bots on one storage must be.
      await assert.rejects(onHost(202, () => true).acquire(), StorageInUseError)
      // Another host cannot know: refused until the lease expires.
      const elsewhere = botProcess(303)
      await assert.rejects(elsewhere.storage.acquire(), StorageInUseError)
      // Gone (its pid no longer exists here): the restarted bot takes over without waiting.
      const restarted = onHost(404, (pid) => pid !== 101)
      await restarted.acquire()
      assert.equal(restarted.lease?.pid, 404)
      assert.ok(
        lines.some((l) => l.includes('taking over the lease of a bot process on this host that is gone')),
      )
    })

    it('fail/a second process is refused with ERR_ALREADY_EXISTS naming the holder; the first keeps working', async () => {
      // Prepare: the first process holds the lease and has written its identity.
      const first = botProcess(101)
      await first.storage.acquire()
      const since = clock.now()
      await first.storage.write(new Map([['state.json', '{"generation":1}\n']]))
      clock.advance(MINUTE)

      // Act
      const second = botProcess(202)
      const refused = await second.storage.acquire().catch((err: unknown) => err)

      // Assess: code, class, exact message (holder's host, pid, since, until); nothing written.
      assert.ok(refused instanceof StorageInUseError)
      assert.equal(refused.code, 'ERR_ALREADY_EXISTS')
      assert.equal(refused.status, 409)
      const until = new Date(since.getTime() + 2 * INTERVAL)
      assert.equal(refused.message, inUse(second.storage.describe(), 'host-101', 101, since, until))
      assert.equal(second.probe.writes, 0)
      // The first is not disturbed: still ours, and its writes carry the lease.
      await first.storage.confirm()
      await first.storage.write(new Map([['state.json', '{"generation":2}\n']]))
      assert.equal((await storedLease())?.host, 'host-101')
      assert.deepEqual([...(await first.storage.readAll()).keys()], ['state.json'], 'reads hide the lease')
    })

    it('ok/after the first releases (clean stop) the second starts, and sees the first’s data', async () => {
      const first = botProcess(101)
      await first.storage.acquire()
      await first.storage.write(new Map([['state.json', 'first\n']]))
      await first.storage.release()
      const released = await storedLease()
      assert.equal(released?.released_at, clock.now().toISOString())
      assert.equal(released?.expires_at, released?.released_at)

      const second = botProcess(202)
      await second.storage.acquire()

      assert.equal((await storedLease())?.host, 'host-202')
      assert.equal(Buffer.from((await second.storage.read('state.json')) ?? []).toString(), 'first\n')
      assert.ok(!lines.some((l) => l.includes('expired without being released')))
    })

    for (const mode of ['daemon', 'one-shot'] as const) {
      const ttl = mode === 'daemon' ? 2 * INTERVAL : 2 * MINUTE
      it(`ok/a crashed ${mode} holder blocks others until its lease expires (${ttl / MINUTE} min), then the second takes over`, async () => {
        // Prepare: the first takes the lease and "crashes" (never releases).
        const crashed = botProcess(101, mode)
        await crashed.storage.acquire()
        const second = botProcess(202)

        // Act + Assess: refused one millisecond before the expiry, taken at it.
        clock.advance(ttl - 1)
        await assert.rejects(second.storage.acquire(), { code: 'ERR_ALREADY_EXISTS' })
        clock.advance(1)
        await second.storage.acquire()
        assert.equal((await storedLease())?.pid, 202)
        assert.ok(
          lines.some((l) =>
            l.startsWith(
              '[202] WARN  taking over a lease on the bot storage that expired without being released',
            ),
          ),
          lines.join('\n'),
        )
      })
    }

    it('fail/two processes starting at once (both read "free"): exactly one holds the lease', async () => {
      // Prepare: both first reads wait until both have read; both settle waits until both wrote.
      const bothRead = barrier(2)
      const bothWrote = barrier(2)
      const a = botProcess(101, 'daemon', () => bothWrote())
      const b = botProcess(202, 'daemon', () => bothWrote())
      a.probe.holdFirstRead = bothRead
      b.probe.holdFirstRead = bothRead

      // Act
      const outcomes = await Promise.allSettled([a.storage.acquire(), b.storage.acquire()])

      // Assess: one winner, whose lease is the stored one; the loser names it.
      const won = outcomes.filter((o) => o.status === 'fulfilled')
      const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []))
      assert.equal(won.length, 1)
      assert.equal(lost.length, 1)
      assert.ok(lost[0] instanceof StorageInUseError)
      const stored = await storedLease()
      assert.equal(lost[0].holder?.holder, stored?.holder)
      const winner = stored?.pid === 101 ? a : b
      assert.equal(winner.storage.lease?.holder, stored?.holder)
      assert.equal((winner === a ? b : a).storage.lease, undefined)
    })

    it('fail/the remaining window: a write that lands after the first read back is caught at the first’s next confirm', async () => {
      // Prepare: b read "free" before a wrote, and is slow: it writes only after a's read-back.
      let bReadFree = () => {}
      const bHasRead = new Promise<void>((resolve) => {
        bReadFree = resolve
      })
      let aAcquired = () => {}
      const aDone = new Promise<void>((resolve) => {
        aAcquired = resolve
      })
      const b = botProcess(202)
      b.probe.holdFirstRead = async () => {
        bReadFree()
        await aDone
      }
      const bAcquire = b.storage.acquire()
      await bHasRead
      const a = botProcess(101)
      await a.storage.acquire()
      aAcquired()

      // Act: b goes on and also ends up holding.
      await bAcquire

      // Assess: the documented window; a stops at its next cycle's confirm.
      await assert.rejects(a.storage.confirm(), (err: unknown) => {
        assert.ok(err instanceof StorageInUseError)
        assert.equal(err.holder?.pid, 202)
        return true
      })
      assert.equal(a.storage.lease, undefined)
    })

    it('fail/a stalled holder whose lease lapsed and was taken stops at its next confirm; its release leaves the new lease alone', async () => {
      const stalled = botProcess(101)
      await stalled.storage.acquire()
      clock.advance(2 * INTERVAL + MINUTE) // suspended past its expiry
      const second = botProcess(202)
      await second.storage.acquire()

      await assert.rejects(stalled.storage.confirm(), { code: 'ERR_ALREADY_EXISTS' })
      const writes = stalled.probe.writes
      await stalled.storage.release()
      assert.equal(stalled.probe.writes, writes, 'nothing written')
      assert.equal((await storedLease())?.pid, 202)
      await assert.rejects(stalled.storage.write(new Map([['key', 'x']])), TypeError)
    })

    it('ok/a holder whose lease expired while nobody took it still holds it at its next confirm', async () => {
      const holder = botProcess(101)
      await holder.storage.acquire()
      clock.advance(3 * INTERVAL)
      await holder.storage.confirm()
      assert.equal((await storedLease())?.pid, 101)
      assert.equal(holder.storage.lease?.pid, 101)
    })

    it('ok/a set written without a lease (a bot that keeps none) is leased again at the next confirm', async () => {
      const holder = botProcess(101)
      await holder.storage.acquire()
      await backend.open().write(new Map([['state.json', 'written by an old bot\n']]))

      await holder.storage.confirm()

      assert.equal((await storedLease())?.pid, 101)
      assert.ok(
        lines.some((l) => l.startsWith('[101] WARN  the lease on the bot storage lapsed; taking it again')),
      )
    })

    it('ok/every write carries the lease, extended; the lease survives identity writes', async () => {
      const holder = botProcess(101)
      await holder.storage.acquire()
      const acquiredAt = clock.now().toISOString()
      for (let generation = 1; generation <= 4; generation++) {
        clock.advance(INTERVAL)
        await holder.storage.write(new Map([['state.json', `{"generation":${generation}}\n`]]))
        const lease = await storedLease()
        assert.equal(lease?.acquired_at, acquiredAt)
        assert.equal(lease?.expires_at, new Date(clock.now().getTime() + 2 * INTERVAL).toISOString())
      }
      assert.deepEqual([...(await backend.open().readAll()).keys()], [LEASE_ARTIFACT, 'state.json'])
    })

    it('ok/extendIfDue writes only once the last write is half an interval old', async () => {
      const holder = botProcess(101)
      await holder.storage.acquire()
      const afterAcquire = holder.probe.writes
      clock.advance(INTERVAL / 2 - 1)
      await holder.storage.extendIfDue()
      assert.equal(holder.probe.writes, afterAcquire)
      clock.advance(1)
      await holder.storage.extendIfDue()
      assert.equal(holder.probe.writes, afterAcquire + 1)
      assert.equal(
        (await storedLease())?.expires_at,
        new Date(clock.now().getTime() + 2 * INTERVAL).toISOString(),
      )
    })

    it('fail/misuse is a TypeError: writing before acquire, writing the lease artifact, acquiring twice', async () => {
      const p = botProcess(101)
      await assert.rejects(p.storage.write(new Map([['key', 'x']])), TypeError)
      await assert.rejects(p.storage.confirm(), TypeError)
      await p.storage.acquire()
      await assert.rejects(p.storage.write(new Map([[LEASE_ARTIFACT, '{}']])), TypeError)
      await assert.rejects(p.storage.write(new Map()), TypeError)
      await assert.rejects(p.storage.acquire(), TypeError)
      assert.equal(await p.storage.read(LEASE_ARTIFACT), undefined)
    })
  })
}
