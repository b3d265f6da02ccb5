import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ManualClock } from '../../../lib/clock.ts'
import { createCachedCredential } from '../../../lib/consumer/cached-credential.ts'
import type { Credential, FetchCredentialOptions } from '../../../lib/consumer/fetch.ts'
import { isBrokerError, UpstreamUnavailableError } from '../../../lib/errors.ts'

const MIN = 60_000
const T0 = Date.UTC(2026, 0, 1)

function credential(n: number, notAfter: number | undefined): Credential {
  return {
    artifacts: new Map([['key', new TextEncoder().encode(`key ${n}`)]]),
    notAfter: notAfter === undefined ? undefined : new Date(notAfter),
    metadata: {},
    issuanceId: `i${n}`,
    writtenAt: new Date(T0),
    versionId: `v${n}`,
  }
}

/** A fetch whose answers the test queues, counting calls; each call waits for `release()`. */
function fakeFetch() {
  const answers: Array<() => Credential> = []
  const calls: FetchCredentialOptions[] = []
  let gate: { promise: Promise<void>; resolve: () => void } | undefined
  return {
    calls,
    answers,
    hold() {
      let resolve!: () => void
      gate = { promise: new Promise<void>((r) => (resolve = r)), resolve }
    },
    release() {
      gate?.resolve()
      gate = undefined
    },
    fetch: async (options: FetchCredentialOptions) => {
      calls.push(options)
      if (gate) await gate.promise
      const next = answers.shift()
      if (!next) throw new Error('no answer queued')
      return next()
    },
  }
}

describe('createCachedCredential', () => {
  it('serves from cache until refreshBeforeMs before notAfter, then fetches again', async () => {
    const clock = new ManualClock(T0)
    const f = fakeFetch()
    f.answers.push(
      () => credential(1, T0 + 60 * MIN),
      () => credential(2, T0 + 120 * MIN),
    )
    const cred = createCachedCredential({ secretId: 's', clock, fetch: f.fetch })
    assert.equal((await cred.get()).versionId, 'v1')
    clock.advance(54 * MIN)
    assert.equal((await cred.get()).versionId, 'v1')
    assert.equal(f.calls.length, 1)
    clock.advance(1 * MIN) // now notAfter - 5 min
    assert.equal((await cred.get()).versionId, 'v2')
    assert.equal(f.calls.length, 2)
    assert.equal(f.calls[0]?.secretId, 's')
    assert.equal(f.calls[0]?.clock, clock)
  })

  it('honours a custom refreshBeforeMs', async () => {
    const clock = new ManualClock(T0)
    const f = fakeFetch()
    f.answers.push(
      () => credential(1, T0 + 60 * MIN),
      () => credential(2, T0 + 120 * MIN),
    )
    const cred = createCachedCredential({ secretId: 's', clock, fetch: f.fetch, refreshBeforeMs: 30 * MIN })
    await cred.get()
    clock.advance(29 * MIN)
    assert.equal((await cred.get()).versionId, 'v1')
    clock.advance(1 * MIN)
    assert.equal((await cred.get()).versionId, 'v2')
  })

  it('de-duplicates concurrent refreshes', async () => {
    const clock = new ManualClock(T0)
    const f = fakeFetch()
    f.answers.push(() => credential(1, T0 + 60 * MIN))
    const cred = createCachedCredential({ secretId: 's', clock, fetch: f.fetch })
    f.hold()
    const all = Promise.all([cred.get(), cred.get(), cred.get()])
    f.release()
    const got = await all
    assert.equal(f.calls.length, 1)
    assert.ok(got.every((c) => c === got[0]))
  })

  it('serves the cached credential when a refresh fails but it has not expired', async () => {
    const clock = new ManualClock(T0)
    const f = fakeFetch()
    f.answers.push(
      () => credential(1, T0 + 60 * MIN),
      () => {
        throw new UpstreamUnavailableError('down')
      },
      () => credential(2, T0 + 120 * MIN),
    )
    const cred = createCachedCredential({ secretId: 's', clock, fetch: f.fetch })
    await cred.get()
    clock.advance(57 * MIN)
    assert.equal((await cred.get()).versionId, 'v1')
    assert.equal((await cred.get()).versionId, 'v2') // the failure was not cached
    assert.equal(f.calls.length, 3)
  })

  it('never returns an expired credential', async () => {
    const clock = new ManualClock(T0)
    const f = fakeFetch()
    f.answers.push(
      () => credential(1, T0 + 60 * MIN),
      () => {
        throw new UpstreamUnavailableError('down')
      },
      () => credential(2, T0 + 30 * MIN), // a custom fetch handing back an already expired one
    )
    const cred = createCachedCredential({ secretId: 's', clock, fetch: f.fetch })
    await cred.get()
    clock.advance(60 * MIN)
    await assert.rejects(cred.get(), UpstreamUnavailableError)
    await assert.rejects(
      cred.get(),
      (err) => isBrokerError(err) && err.code === 'ERR_NOT_FOUND' && /expired/.test(err.message),
    )
  })

  it('keeps a credential without a known expiry for refreshBeforeMs', async () => {
    const clock = new ManualClock(T0)
    const f = fakeFetch()
    f.answers.push(
      () => credential(1, undefined),
      () => credential(2, undefined),
    )
    const cred = createCachedCredential({ secretId: 's', clock, fetch: f.fetch, refreshBeforeMs: MIN })
    await cred.get()
    clock.advance(MIN - 1)
    assert.equal((await cred.get()).versionId, 'v1')
    clock.advance(1)
    assert.equal((await cred.get()).versionId, 'v2')
  })

  it('rejects bad options', () => {
    assert.throws(() => createCachedCredential({ secretId: '' }), TypeError)
    assert.throws(() => createCachedCredential({ secretId: 's', refreshBeforeMs: -1 }), TypeError)
  })
})
