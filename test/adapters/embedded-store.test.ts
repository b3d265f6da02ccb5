import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, afterEach, before, beforeEach, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { SCHEMA_VERSION } from '../../lib/adapters/embedded/schema.ts'
import { EmbeddedStore, SWEEP_EVERY_WRITES } from '../../lib/adapters/embedded/store.ts'
import { ManualClock } from '../../lib/clock.ts'
import type { Store } from '../../lib/ports/store.ts'
import { runStoreConformance } from '../conformance/store.suite.ts'
import { increment, raceKey, type WorkerResult } from '../helpers/embedded-store-worker.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const WORKER = fileURLToPath(new URL('../helpers/embedded-store-worker.ts', import.meta.url))

runStoreConformance('embedded (SQLite)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'credbroker-embedded-'))
  const path = join(dir, 'state', 'credbroker.db')
  const clock = new ManualClock()
  let store: Store = await EmbeddedStore.open({ path, clock })
  return {
    store,
    clock,
    async reopen() {
      await store.close()
      store = await EmbeddedStore.open({ path, clock })
      return store
    },
    async cleanup() {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})

/** Asserts that `promise` rejects with a BrokerError carrying `code` and a matching message. */
async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    const { code: actual, message: text } = err as { code?: string; message?: string }
    assert.equal(actual, code, `expected ${code}, got ${String(err)}`)
    if (message) assert.match(text ?? '', message)
    return true
  })
}

/** Counts the rows physically present, expired or not, through a separate connection. */
function rowCount(path: string): number {
  const db = new Database(path, { readonly: true })
  try {
    return db.prepare('SELECT count(*) FROM items').pluck().get() as number
  } finally {
    db.close()
  }
}

describe('EmbeddedStore', () => {
  let dir: string
  let path: string
  let store: EmbeddedStore | undefined

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'credbroker-embedded-'))
    path = join(dir, 'credbroker.db')
  })
  afterEach(async () => {
    await store?.close()
    store = undefined
    rmSync(dir, { recursive: true, force: true })
  })

  describe('Method: open', () => {
    it('ok/creates the directory 0700 and the database files 0600 whatever the umask', async () => {
      const nested = join(dir, 'a', 'b')
      const previous = process.umask(0o277) // would give 0500 directories and 0400 files
      try {
        store = await EmbeddedStore.open({ path: join(nested, 'state.db') })
        await store.put('ns/k', 'v')
      } finally {
        process.umask(previous)
      }
      for (const d of [join(dir, 'a'), nested]) assert.equal(statSync(d).mode & 0o777, 0o700, d)
      for (const suffix of ['', '-wal', '-shm']) {
        assert.equal(statSync(join(nested, `state.db${suffix}`)).mode & 0o777, 0o600, suffix)
      }
    })

    it('ok/tightens an existing database file to 0600 and keeps an existing directory as is', async () => {
      chmodSync(dir, 0o755)
      writeFileSync(path, '', { mode: 0o644 })
      chmodSync(path, 0o644)
      store = await EmbeddedStore.open({ path })
      assert.equal(statSync(path).mode & 0o777, 0o600)
      assert.equal(statSync(dir).mode & 0o777, 0o755)
    })

    it('ok/uses write-ahead logging', async () => {
      store = await EmbeddedStore.open({ path })
      await store.close()
      const db = new Database(path, { readonly: true })
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
      db.close()
    })

    it('fail/a symbolic link, dangling or not, is refused with ERR_INVALID_CONFIG naming path', async () => {
      const target = join(dir, 'real.db')
      writeFileSync(target, '')
      symlinkSync(target, path)
      symlinkSync(join(dir, 'missing.db'), join(dir, 'dangling.db'))
      for (const link of [path, join(dir, 'dangling.db')]) {
        await assert.rejects(EmbeddedStore.open({ path: link }), (err: unknown) => {
          const { code, field, message } = err as { code?: string; field?: string; message: string }
          assert.equal(code, 'ERR_INVALID_CONFIG')
          assert.equal(field, 'path')
          assert.match(message, /symbolic link/)
          return true
        })
      }
      assert.equal(statSync(target).size, 0, 'the link target is left untouched')
    })

    it('fail/a directory is refused with ERR_INVALID_CONFIG', async () => {
      mkdirSync(path)
      await rejectsWith(EmbeddedStore.open({ path }), 'ERR_INVALID_CONFIG', /is a directory/)
      await rejectsWith(EmbeddedStore.open({ path: '' }), 'ERR_INVALID_CONFIG', /^path:/)
    })

    it('fail/a database with a newer schema version is refused with a clear error', async () => {
      store = await EmbeddedStore.open({ path })
      await store.put('ns/k', 'v')
      await store.close()
      store = undefined
      const db = new Database(path)
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
      db.close()
      await rejectsWith(
        EmbeddedStore.open({ path }),
        'ERR_INVALID_CONFIG',
        new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer .*upgrade credbroker`),
      )
    })

    it('fail/another application’s database is refused and left unchanged', async () => {
      const db = new Database(path)
      db.exec('CREATE TABLE photos (id INTEGER PRIMARY KEY)')
      db.close()
      await rejectsWith(EmbeddedStore.open({ path }), 'ERR_INVALID_CONFIG', /not a credbroker state database/)
      const check = new Database(path, { readonly: true })
      const tables = check.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all()
      check.close()
      assert.deepEqual(tables, ['photos'])
    })

    it('fail/a file that is not a database gives ERR_STORE_UNAVAILABLE (SQLITE_NOTADB)', async () => {
      writeFileSync(path, 'x'.repeat(4096))
      await rejectsWith(EmbeddedStore.open({ path }), 'ERR_STORE_UNAVAILABLE', /SQLITE_NOTADB/)
    })
  })

  describe('Method: list', () => {
    it('ok/treats _ and % literally and compares case-sensitively (range scan, not LIKE)', async () => {
      store = await EmbeddedStore.open({ path })
      for (const k of ['ns/a_1', 'ns/ab1', 'ns/A_1', 'ns/a%', 'ns/aX', 'ns/a_~']) await store.put(k, k)
      const keys = async (prefix: string) => (await store!.list(prefix)).items.map((i) => i.key)
      assert.deepEqual(await keys('ns/a_'), ['ns/a_1', 'ns/a_~'])
      assert.deepEqual(await keys('ns/a%'), ['ns/a%'])
      assert.deepEqual(await keys('ns/A'), ['ns/A_1'])
    })
  })

  describe('Locking', () => {
    it('fail/a write lock held past busyTimeoutMs gives ERR_STORE_UNAVAILABLE; reads still work', async () => {
      store = await EmbeddedStore.open({ path, busyTimeoutMs: 20 })
      await store.put('ns/k', 'v1')
      const other = new Database(path)
      try {
        other.exec('BEGIN IMMEDIATE')
        await rejectsWith(store.put('ns/k', 'v2'), 'ERR_STORE_UNAVAILABLE', /SQLITE_BUSY/)
        assert.equal((await store.get('ns/k'))?.value, 'v1')
        other.exec('ROLLBACK')
      } finally {
        other.close()
      }
      await store.put('ns/k', 'v3')
      assert.equal((await store.get('ns/k'))?.value, 'v3')
    })
  })

  describe('Sweep', () => {
    it('ok/expired rows are deleted at open and after every SWEEP_EVERY_WRITES writes', async () => {
      const clock = new ManualClock()
      store = await EmbeddedStore.open({ path, clock })
      const soon = new Date(clock.now().getTime() + 1000)
      for (let i = 0; i < 10; i++) await store.put(`ns/old${i}`, 'v', { expires: soon })
      clock.advance(1000)
      for (let i = 10; i < SWEEP_EVERY_WRITES - 1; i++) await store.put('ns/live', String(i))
      assert.equal(rowCount(path), 11, 'not swept yet, but invisible')
      assert.deepEqual((await store.list('ns/')).items.length, 1)
      await store.put('ns/live', 'last') // the SWEEP_EVERY_WRITES-th write
      assert.equal(rowCount(path), 1)

      await store.put('ns/gone', 'v', { expires: new Date(clock.now().getTime() + 1) })
      clock.advance(1)
      await store.close()
      store = await EmbeddedStore.open({ path, clock })
      assert.equal(rowCount(path), 1)
    })
  })

  describe('Method: close', () => {
    it('ok/is idempotent; a closed store throws TypeError', async () => {
      store = await EmbeddedStore.open({ path })
      await store.close()
      await store.close()
      await assert.rejects(store.get('ns/k'), TypeError)
    })
  })
})

interface Worker {
  /** Resolves once the worker has opened the store; rejects if it exits first. */
  ready: Promise<void>
  /** Sends the start signal. */
  start(): void
  /** Resolves when the worker exits, with its exit code and last JSON line. */
  exited: Promise<{ code: number | null; result: WorkerResult & { error?: unknown }; stderr: string }>
}

function spawnWorker(...args: string[]): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  let result: WorkerResult = {}
  let markReady = (): void => {}
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve
    child.on('close', (code) => reject(new Error(`worker exited (${code}) before ready: ${stderr}`)))
  })
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line) as WorkerResult & { ready?: boolean }
    if (message.ready) markReady()
    else result = message
  })
  const exited = new Promise<Awaited<Worker['exited']>>((resolve) => {
    child.on('close', (code) => resolve({ code, result, stderr }))
  })
  ready.catch(() => {}) // reported through `exited` when the test never awaits ready
  return { ready, start: () => child.stdin.end('go\n'), exited }
}

describe('EmbeddedStore: two processes on one file', { timeout: 120_000 }, () => {
  let dir: string
  let path: string
  let runs = 0

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'credbroker-embedded-mp-'))
  })
  beforeEach(() => {
    path = join(dir, `state-${++runs}.db`)
  })
  after(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  it('ok/get + compareAndSwap increments from three processes lose no update', async () => {
    const [perWorker, inParent] = [100, 50]
    const store = await EmbeddedStore.open({ path })
    try {
      await store.put('counter/c', '0')
      const workers = [
        spawnWorker(path, 'increment', 'counter/c', String(perWorker)),
        spawnWorker(path, 'increment', 'counter/c', String(perWorker)),
      ]
      await Promise.all(workers.map((w) => w.ready))
      for (const w of workers) w.start()
      for (let i = 0; i < inParent; i++) await increment(store, 'counter/c')
      const outcomes = await Promise.all(workers.map((w) => w.exited))
      for (const { code, result, stderr } of outcomes) {
        assert.equal(result.error, undefined, `worker failed: ${JSON.stringify(result.error)}`)
        assert.equal(code, 0, stderr)
        assert.equal(result.increments, perWorker)
      }
      assert.equal((await store.get('counter/c'))?.value, String(2 * perWorker + inParent))
    } finally {
      await store.close()
    }
  })

  it('ok/two processes racing creates of the same 50 keys create each key exactly once', async () => {
    const count = 50
    // Both workers open, and so initialise, the fresh file at about the same time. They walk the
    // keys in opposite directions so that they meet (see createAll for why).
    const workers = [
      spawnWorker(path, 'create', 'race/', String(count), 'asc'),
      spawnWorker(path, 'create', 'race/', String(count), 'desc'),
    ]
    await Promise.all(workers.map((w) => w.ready))
    for (const w of workers) w.start()
    const created: string[] = []
    for (const { code, result, stderr } of await Promise.all(workers.map((w) => w.exited))) {
      assert.equal(result.error, undefined, `worker failed: ${JSON.stringify(result.error)}`)
      assert.equal(code, 0, stderr)
      created.push(...(result.created ?? []))
    }
    const expected = Array.from({ length: count }, (_, i) => raceKey('race/', i))
    assert.equal(created.length, count, 'successes reported by both processes together')
    assert.deepEqual(created.sort(), expected)
    const store = await EmbeddedStore.open({ path })
    try {
      assert.deepEqual(
        (await store.list('race/')).items.map((i) => i.key),
        expected,
      )
    } finally {
      await store.close()
    }
  })
})
