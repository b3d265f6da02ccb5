/**
 * State store throughput: sequential put, get, create, compareAndSwap and list pages on the
 * memory and embedded (SQLite, synchronous=FULL) adapters. DynamoDB is left out on purpose: on
 * moto it would measure the Python emulator, not DynamoDB.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EmbeddedStore } from '../lib/adapters/embedded/store.ts'
import { MemoryStore } from '../lib/adapters/memory/store.ts'
import type { Store } from '../lib/ports/store.ts'
import { type Measurement, measure } from './measure.ts'

export interface BenchSection {
  title: string
  notes: string
  rows: Measurement[]
}

const VALUE = JSON.stringify({
  kind: 'role',
  spec: { allow: { logins: ['alice', 'bob'] } },
  pad: 'x'.repeat(400),
})

async function storeRows(label: string, store: Store, seconds: number): Promise<Measurement[]> {
  const rows: Measurement[] = []
  rows.push(await measure(`${label}: put`, (i) => store.put(`bench/k${i % 1000}`, VALUE), { seconds }))
  rows.push(await measure(`${label}: get`, (i) => store.get(`bench/k${i % 1000}`), { seconds }))
  rows.push(
    await measure(`${label}: create (new key)`, (i) => store.create(`create/k${i}`, VALUE), { seconds }),
  )
  let revision = (await store.put('cas/counter', '0')).revision
  rows.push(
    await measure(
      `${label}: compareAndSwap`,
      async (i) => {
        revision = (await store.compareAndSwap('cas/counter', revision, String(i))).revision
      },
      { seconds },
    ),
  )
  rows.push(
    await measure(`${label}: list page of 100`, () => store.list('bench/', { limit: 100 }), {
      seconds,
      warmup: 20,
    }),
  )
  return rows
}

export async function storeBench(seconds: number): Promise<BenchSection> {
  const memory = new MemoryStore()
  const dir = mkdtempSync(join(tmpdir(), 'credbroker-bench-'))
  const embedded = await EmbeddedStore.open({ path: join(dir, 'state.db') })
  try {
    const rows = [
      ...(await storeRows('memory', memory, seconds)),
      ...(await storeRows('embedded', embedded, seconds)),
    ]
    return {
      title: 'State store',
      notes:
        'Sequential operations, one at a time, 500-byte values. The embedded store commits every write ' +
        'with an fsync (synchronous=FULL): CA material and generation counters must survive a power cut. ' +
        'Its write rate is therefore bound by the disk, not by the code.',
      rows,
    }
  } finally {
    await embedded.close()
    await memory.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
