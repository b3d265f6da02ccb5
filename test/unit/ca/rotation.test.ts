/**
 * CA rotation on in-memory ports: every phase's signing key and trust set, rollback, refused
 * steps, races between two steps, automatic steps on an injected clock, destroyed keys, audit
 * events, and a key store that cannot make new keys.
 */
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { beforeEach, describe, it } from 'node:test'
import { MemoryKeyStore } from '../../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../../lib/adapters/memory/store.ts'
import { type CaType, keySetRefs, readCaRecord } from '../../../lib/ca/authorities.ts'
import { AuthorityCache } from '../../../lib/ca/authority-cache.ts'
import { type RotationDeps, rotateCa, rotationStatus } from '../../../lib/ca/rotation.ts'
import type { RotationPhase } from '../../../lib/ca/rotation-phases.ts'
import { ManualClock } from '../../../lib/clock.ts'
import { silentLogger } from '../../../lib/log.ts'
import type { EventSink } from '../../../lib/ports/event-sink.ts'
import type { KeyStore } from '../../../lib/ports/key-store.ts'
import { cryptoRandom } from '../../../lib/random.ts'

const HOUR = 3600_000

interface Fixture {
  readonly deps: RotationDeps
  readonly cache: AuthorityCache
  readonly clock: ManualClock
  readonly store: MemoryStore
  readonly keys: MemoryKeyStore
}

async function fixture(keys: KeyStore = new MemoryKeyStore(), events?: EventSink): Promise<Fixture> {
  const clock = new ManualClock(Date.UTC(2026, 10, 23))
  const store = new MemoryStore({ clock })
  const deps: RotationDeps = {
    store,
    keys,
    clock,
    random: cryptoRandom,
    clusterName: 'test.local',
    log: silentLogger,
    ...(events && { events }),
  }
  const cache = await AuthorityCache.open({ ...deps, refreshMs: 60_000 })
  return { deps, cache, clock, store, keys: keys as MemoryKeyStore }
}

const step = (
  f: Fixture,
  type: CaType,
  phase?: RotationPhase,
  extra: { manual?: boolean; gracePeriodMs?: number; force?: boolean } = {},
) => rotateCa(f.deps, { type, user: 'admin', ...(phase && { phase }), ...extra })

/** The user CA as the auth process sees it after the step: signing key and trusted keys. */
async function userCa(f: Fixture) {
  await f.cache.refresh({ force: true })
  const ca = f.cache.current.user
  return {
    phase: ca.rotation.phase,
    signingSsh: ca.ssh?.publicKey,
    signingTls: ca.tls?.cert.fingerprint256,
    trustedSsh: ca.trustedSshKeys,
    trustedTls: ca.trustedTlsCerts.map((c) => c.fingerprint256),
  }
}

async function auditTypes(store: MemoryStore): Promise<string[]> {
  const page = await store.list('audit/')
  return page.items
    .map((i) => JSON.parse(i.value) as { type: string; to?: string })
    .map((e) => `${e.type}:${e.to}`)
}

describe('CA rotation phases', () => {
  let f: Fixture
  beforeEach(async () => {
    f = await fixture()
  })

  it('walks standby → init → update_clients → update_servers → standby with the right signer and trust set', async () => {
    const before = await userCa(f)
    assert.equal(before.phase, 'standby')
    assert.equal(before.trustedSsh.length, 1)

    await step(f, 'user') // → init
    const init = await userCa(f)
    assert.equal(init.phase, 'init')
    assert.equal(init.signingSsh, before.signingSsh, 'init: the old key still signs')
    assert.equal(init.trustedSsh.length, 2, 'init: the new key is trusted')
    assert.equal(init.trustedTls.length, 2)
    const newSsh = init.trustedSsh.find((k) => k !== before.signingSsh)
    const newTls = init.trustedTls.find((k) => k !== before.signingTls)

    await step(f, 'user') // → update_clients
    const clients = await userCa(f)
    assert.equal(clients.phase, 'update_clients')
    assert.equal(clients.signingSsh, newSsh, 'update_clients: the new key signs')
    assert.equal(clients.signingTls, newTls)
    assert.deepEqual(new Set(clients.trustedSsh), new Set(init.trustedSsh), 'both keys stay trusted')

    await step(f, 'user') // → update_servers
    const servers = await userCa(f)
    assert.equal(servers.phase, 'update_servers')
    assert.equal(servers.signingSsh, newSsh)
    assert.equal(servers.trustedTls.length, 2)

    const old = await readCaRecord(f.store, 'user')
    const oldRefs = keySetRefs(old?.record.additional_trusted[0] ?? {})
    assert.equal(oldRefs.length, 2)

    await assert.rejects(step(f, 'user'), {
      code: 'ERR_ROTATION_PHASE',
      message: /signing key changed at .*; ending the rotation before .* force the step/,
    })
    f.clock.advance(30 * HOUR) // one default grace period after update_clients
    await step(f, 'user') // → standby
    const done = await userCa(f)
    assert.equal(done.phase, 'standby')
    assert.deepEqual(done.trustedSsh, [newSsh], 'standby: only the new key is trusted')
    assert.deepEqual(done.trustedTls, [newTls])
    for (const ref of oldRefs) {
      await assert.rejects(f.keys.signer(ref), { code: 'ERR_NOT_FOUND' }, 'the old keys are destroyed')
    }
    // Audit ids order by time, and all four steps share one instant of the frozen clock.
    assert.deepEqual((await auditTypes(f.store)).sort(), [
      'ca.rotation:init',
      'ca.rotation:standby',
      'ca.rotation:update_clients',
      'ca.rotation:update_servers',
    ])
    const [status] = (await rotationStatus(f.deps)).filter((s) => s.type === 'user')
    assert.ok(status?.last_rotated_at)
    assert.equal(status?.started_at, undefined)
  })

  it('the new CA certificate has its own key and the cluster subject', async () => {
    await step(f, 'host')
    await f.cache.refresh({ force: true })
    const [active, fresh] = f.cache.current.host.trustedTlsPems.map((p) => new X509Certificate(p))
    assert.ok(active && fresh)
    assert.equal(active.subject, fresh.subject)
    assert.notEqual(active.publicKey.export({ format: 'jwk' }).x, fresh.publicKey.export({ format: 'jwk' }).x)
    assert.ok(fresh.ca)
  })

  for (const from of ['update_clients', 'update_servers'] as const) {
    it(`rolls back from ${from}: the old key signs again, both trusted, then only the old one`, async () => {
      const before = await userCa(f)
      await step(f, 'user', 'init')
      await step(f, 'user', 'update_clients')
      if (from === 'update_servers') await step(f, 'user', 'update_servers')
      const newRefs = keySetRefs((await readCaRecord(f.store, 'user'))?.record.active ?? {})

      await step(f, 'user', 'rollback')
      const rolled = await userCa(f)
      assert.equal(rolled.phase, 'rollback')
      assert.equal(rolled.signingSsh, before.signingSsh, 'rollback: the old key signs')
      assert.equal(rolled.trustedSsh.length, 2, 'rollback: the new key stays trusted for the grace period')

      await assert.rejects(
        step(f, 'user'),
        { code: 'ERR_ROTATION_PHASE' },
        'the old key signs again only now',
      )
      await step(f, 'user', undefined, { force: true }) // rollback → standby
      const done = await userCa(f)
      assert.deepEqual(done.trustedSsh, before.trustedSsh)
      assert.equal(done.signingTls, before.signingTls)
      for (const ref of newRefs) await assert.rejects(f.keys.signer(ref), { code: 'ERR_NOT_FOUND' })
    })
  }

  it('refuses a step the phase does not allow, with a stable code, and changes nothing', async () => {
    const before = await readCaRecord(f.store, 'db')
    await assert.rejects(step(f, 'db', 'update_clients'), {
      code: 'ERR_ROTATION_PHASE',
      message: /phase standby; it can go to init, not update_clients/,
    })
    await assert.rejects(step(f, 'db', 'rollback'), { code: 'ERR_ROTATION_PHASE' })
    await step(f, 'db', 'init')
    await assert.rejects(step(f, 'db', 'standby'), { code: 'ERR_ROTATION_PHASE' })
    const after = await readCaRecord(f.store, 'db')
    assert.equal(after?.record.rotation?.phase, 'init')
    assert.equal(after?.record.active.tls?.key_ref, before?.record.active.tls?.key_ref)
  })

  it('of two steps racing, one wins; the loser reports a revision mismatch and keeps no keys', async () => {
    const generated: string[] = []
    const keys = f.keys
    const original = keys.generate.bind(keys)
    keys.generate = async (algorithm, label) => {
      const made = await original(algorithm, label)
      generated.push(made.ref)
      return made
    }
    const results = await Promise.allSettled([step(f, 'jwt', 'init'), step(f, 'jwt', 'init')])
    const failed = results.filter((r) => r.status === 'rejected')
    assert.equal(failed.length, 1)
    assert.equal((failed[0] as PromiseRejectedResult).reason.code, 'ERR_REVISION_MISMATCH')
    const record = (await readCaRecord(f.store, 'jwt'))?.record
    const kept = keySetRefs(record?.additional_trusted[0] ?? {})
    assert.equal(generated.length, 2)
    for (const ref of generated.filter((r) => !kept.includes(r))) {
      await assert.rejects(keys.signer(ref), { code: 'ERR_NOT_FOUND' }, "the loser's key is destroyed")
    }
  })

  it('steps an automatic rotation after each grace period when an auth process refreshes', async () => {
    const status = await step(f, 'user', undefined, { manual: false, gracePeriodMs: 2 * HOUR })
    assert.equal(status.phase, 'init')
    assert.equal(status.mode, 'auto')
    assert.equal(status.next_phase, 'update_clients')
    assert.equal(status.next_phase_at, new Date(f.clock.now().getTime() + 2 * HOUR).toISOString())

    const seen: string[] = []
    for (let i = 0; i < 4; i++) {
      f.clock.advance(HOUR)
      await f.cache.refresh()
      seen.push(f.cache.current.user.rotation.phase)
    }
    assert.deepEqual(seen, ['init', 'update_clients', 'update_clients', 'update_servers'])
    f.clock.advance(2 * HOUR)
    await f.cache.refresh()
    assert.equal(f.cache.current.user.rotation.phase, 'standby')
    assert.equal(f.cache.current.user.trustedSshKeys.length, 1)
    const events = await auditTypes(f.store)
    assert.equal(events.length, 4)
  })

  it('starts each rotation in manual mode unless asked: an automatic rotation does not carry over', async () => {
    await step(f, 'jwt', undefined, { manual: false, gracePeriodMs: HOUR })
    for (let i = 0; i < 3; i++) {
      f.clock.advance(HOUR)
      await f.cache.refresh()
    }
    assert.equal(f.cache.current.jwt.rotation.phase, 'standby')
    const next = await step(f, 'jwt')
    assert.equal(next.phase, 'init')
    assert.equal(next.mode, 'manual')
    assert.equal(next.next_phase_at, undefined)
  })

  it('a rollback from init ends at once: no certificate was signed with the new key', async () => {
    await step(f, 'host', 'init')
    await step(f, 'host', 'rollback')
    assert.equal((await step(f, 'host')).phase, 'standby')
  })

  it('publishes every step, automatic ones included, to the event sink', async () => {
    const published: string[] = []
    const events = {
      publish: async (e: { type: string; detail: Record<string, unknown> }) =>
        void published.push(`${e.type}:${e.detail.to}`),
    }
    const withEvents = await fixture(new MemoryKeyStore(), events)
    await rotateCa(withEvents.deps, { type: 'user', user: 'admin', manual: false, gracePeriodMs: HOUR })
    withEvents.clock.advance(HOUR)
    await withEvents.cache.refresh()
    assert.deepEqual(published, ['ca.rotation:init', 'ca.rotation:update_clients'])
  })

  it('refuses a grace period under a minute and an unknown CA record', async () => {
    await assert.rejects(step(f, 'user', undefined, { gracePeriodMs: 1000 }), { code: 'ERR_BAD_REQUEST' })
    await f.store.delete('cert_authority/db')
    await assert.rejects(step(f, 'db'), { code: 'ERR_NOT_FOUND' })
  })

  it('a refresh that fails keeps the loaded CAs', async () => {
    const loaded = f.cache.current
    const broken = f.store.get.bind(f.store)
    f.store.get = async () => {
      throw new Error('store down')
    }
    f.clock.advance(60_000)
    await f.cache.refresh()
    assert.equal(f.cache.current, loaded)
    // Past the maximum staleness (5 min), requests are refused rather than trust retired keys.
    f.clock.advance(5 * 60_000)
    await assert.rejects(f.cache.refresh(), {
      code: 'ERR_STORE_UNAVAILABLE',
      message: /could not be re-read/,
    })
    f.store.get = broken
    f.clock.advance(60_000)
    await f.cache.refresh()
  })

  it('one CA record that cannot be loaded does not hold the others back', async () => {
    await step(f, 'host', 'init')
    const db = await readCaRecord(f.store, 'db')
    assert.ok(db)
    await f.store.compareAndSwap('cert_authority/db', db.revision, '{"not":"a CA record"}')
    await f.cache.refresh({ force: true })
    assert.equal(f.cache.current.host.rotation.phase, 'init', 'the host CA was reloaded')
    assert.equal(f.cache.current.db.trustedTlsPems.length, 1, 'the db CA kept what it had')
  })
})

describe('CA rotation with a key store that hands out provisioned keys', () => {
  it('refuses init when the store returns the key in use, and leaves the CA as it was', async () => {
    // A KMS key store with one configured key per label returns the same key for every generate.
    const inner = new MemoryKeyStore()
    const byLabel = new Map<string, Awaited<ReturnType<KeyStore['generate']>>>()
    const provisioned: KeyStore = {
      supports: (a) => inner.supports(a),
      signer: (ref) => inner.signer(ref),
      delete: async () => {},
      async generate(algorithm, label) {
        const base = label.replace(/-\d+$/, '')
        let key = byLabel.get(base)
        if (!key) {
          key = await inner.generate(algorithm, base)
          byLabel.set(base, key)
        }
        return key
      },
    }
    const f = await fixture(provisioned)
    const before = await readCaRecord(f.store, 'user')
    await assert.rejects(step(f, 'user'), { code: 'ERR_INVALID_CONFIG', message: /user-\*-1/ })
    const after = await readCaRecord(f.store, 'user')
    assert.equal(after?.revision, before?.revision)
  })
})
