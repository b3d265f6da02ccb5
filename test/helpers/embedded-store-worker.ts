/**
 * A second (and third) process working on one EmbeddedStore file, for the multi-process tests in
 * `test/adapters/embedded-store.test.ts`. The parent test imports {@link increment} and
 * {@link createAll} too, so every process runs the same code.
 *
 * Usage (from the repository root):
 *   node --import tsx test/helpers/embedded-store-worker.ts <db> increment <key> <count>
 *   node --import tsx test/helpers/embedded-store-worker.ts <db> create <prefix> <count> [asc|desc]
 *
 * Protocol on stdout, one JSON object per line: `{"ready":true}` once the store is open; then,
 * after any line arrives on stdin (the start signal, so all processes race from the same moment),
 * one result line and exit code 0. On failure: `{"error":{"code","message"}}` and exit code 1.
 */
import { pathToFileURL } from 'node:url'
import { EmbeddedStore } from '../../lib/adapters/embedded/store.ts'
import type { Store } from '../../lib/ports/store.ts'

/** What a worker reports when it finishes. */
export interface WorkerResult {
  /** increment: how many increments were applied. */
  increments?: number
  /** increment: how many compareAndSwap attempts lost to another writer and were retried. */
  retries?: number
  /** create: the keys this process created. */
  created?: string[]
}

/**
 * Adds one to the decimal counter at `key` with get + compareAndSwap, retrying when another
 * writer got there first.
 * @returns how many attempts were retried.
 */
export async function increment(store: Store, key: string): Promise<number> {
  for (let retries = 0; ; retries++) {
    const item = await store.get(key)
    if (item === undefined) throw new Error(`counter ${key} does not exist`)
    try {
      await store.compareAndSwap(key, item.revision, String(Number(item.value) + 1))
      return retries
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ERR_REVISION_MISMATCH') throw err
    }
  }
}

/** The key of the `i`-th item of a create race. */
export function raceKey(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(3, '0')}`
}

/**
 * Tries to create the keys `raceKey(prefix, 0)` to `raceKey(prefix, count - 1)`, ascending or
 * descending. (Two processes going the same way do not really race: SQLite's busy handler polls
 * with sleeps, so the one that starts second trails behind and finds every key taken.)
 * @returns the keys this caller created (the others already existed).
 */
export async function createAll(
  store: Store,
  prefix: string,
  count: number,
  order: 'asc' | 'desc' = 'asc',
): Promise<string[]> {
  const created: string[] = []
  for (let n = 0; n < count; n++) {
    const key = raceKey(prefix, order === 'asc' ? n : count - 1 - n)
    try {
      await store.create(key, `pid ${process.pid}`)
      created.push(key)
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ERR_ALREADY_EXISTS') throw err
    }
  }
  return created
}

async function main(args: string[]): Promise<WorkerResult> {
  const [path, task, target, countText, order = 'asc'] = args
  const count = Number(countText)
  if (path === undefined || target === undefined || !Number.isInteger(count)) {
    throw new TypeError(
      'usage: embedded-store-worker.ts <db> increment|create <key|prefix> <count> [asc|desc]',
    )
  }
  const store = await EmbeddedStore.open({ path })
  try {
    const start = new Promise<void>((resolve) => process.stdin.once('data', () => resolve()))
    send({ ready: true })
    await start
    process.stdin.destroy()
    if (task === 'increment') {
      let retries = 0
      for (let i = 0; i < count; i++) retries += await increment(store, target)
      return { increments: count, retries }
    }
    if (task === 'create') {
      if (order !== 'asc' && order !== 'desc') throw new TypeError(`unknown order ${order}`)
      return { created: await createAll(store, target, count, order) }
    }
    throw new TypeError(`unknown task ${String(task)}`)
  } finally {
    await store.close()
  }
}

function send(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(send, (err: unknown) => {
    const { code, message } = err as { code?: unknown; message?: unknown }
    send({ error: { code: code ?? null, message: String(message ?? err) } })
    process.stdin.destroy()
    process.exitCode = 1
  })
}
