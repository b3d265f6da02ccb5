/**
 * The persisted reissue replies (`lib/reissue/reply-record.ts`) over a memory destination: replay
 * and conflict, expiry on the injected clock, the newest keys kept within the key and byte bounds,
 * an unreadable record treated as empty.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryDestination } from '../../../lib/adapters/memory/destination.ts'
import { ManualClock } from '../../../lib/clock.ts'
import { MAX_RECORD_BYTES, REPLY_RECORD_ARTIFACT, ReplyRecord } from '../../../lib/reissue/reply-record.ts'

const reply = (n: number) => ({
  status: 200,
  body: { ok: true, outputs: [{ output: 'a', serial: `s${n}` }] },
})

function record(options: { maxKeys?: number; ttlMs?: number } = {}) {
  const clock = new ManualClock(Date.UTC(2026, 10, 22, 12))
  const destination = new MemoryDestination()
  return { clock, destination, replies: new ReplyRecord({ destination, clock, ...options }) }
}

describe('ReplyRecord', () => {
  it('ok/a saved reply replays for the same caller, key and body; another body conflicts', async () => {
    const { replies } = record()
    await replies.save('arn:ops', 'k', 'f1', reply(1))
    assert.deepEqual(await replies.find('arn:ops', 'k', 'f1'), { kind: 'replay', reply: reply(1) })
    assert.deepEqual(await replies.find('arn:ops', 'k', 'f2'), { kind: 'conflict' })
    assert.equal(await replies.find('arn:dev', 'k', 'f1'), undefined, 'keys are per caller')
  })

  it('ok/an expired reply is forgotten', async () => {
    const { clock, replies } = record({ ttlMs: 60_000 })
    await replies.save('c', 'k', 'f', reply(1))
    clock.advance(60_000)
    assert.equal(await replies.find('c', 'k', 'f'), undefined)
  })

  it('ok/only the newest maxKeys are kept, concurrent saves included', async () => {
    const { replies } = record({ maxKeys: 3 })
    await Promise.all([1, 2, 3, 4, 5].map((n) => replies.save('c', `k${n}`, 'f', reply(n))))
    const found = await Promise.all([1, 2, 3, 4, 5].map((n) => replies.find('c', `k${n}`, 'f')))
    assert.deepEqual(
      found.map((f) => f?.kind),
      [undefined, undefined, 'replay', 'replay', 'replay'],
    )
  })

  it('ok/the record stays within its byte bound, oldest dropped first', async () => {
    const { destination, replies } = record({ maxKeys: 1000 })
    const big = (n: number) => ({ status: 200, body: { pad: 'x'.repeat(4000), n } })
    for (let n = 0; n < 30; n++) await replies.save('c', `k${n}`, 'f', big(n))
    const bytes = (await destination.read(REPLY_RECORD_ARTIFACT))?.length ?? 0
    assert.ok(bytes <= MAX_RECORD_BYTES, `${bytes} bytes`)
    assert.equal((await replies.find('c', 'k29', 'f'))?.kind, 'replay')
    assert.equal(await replies.find('c', 'k0', 'f'), undefined)
  })

  it('ok/an unreadable record is treated as empty and replaced by the next save', async () => {
    const { destination, replies } = record()
    await destination.write(new Map([[REPLY_RECORD_ARTIFACT, 'not json']]))
    assert.equal(await replies.find('c', 'k', 'f'), undefined)
    await replies.save('c', 'k', 'f', reply(1))
    assert.equal((await replies.find('c', 'k', 'f'))?.kind, 'replay')
  })
})
