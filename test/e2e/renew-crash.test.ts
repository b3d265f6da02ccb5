/**
 * Fault injection for crash-safe renewal (docs/RENEWAL.md; issue 7 acceptance): bots run as
 * real processes against an auth service on 127.0.0.1, with directory storage, and every run is
 * killed with SIGKILL at a seeded random point of a renewal: before the pending renewal is saved,
 * while saving it, before the request, after the server committed (the answer lost), after the
 * answer arrived, while saving the result, after saving it. The next run of the bot must carry
 * on. After every crash the storage and the server agree (checked from the files and the
 * instance record), no lock ever appears, and at the end each bot renews and gets impersonated
 * certificates.
 *
 * Reproduce a failure with the seed it prints: CREDBROKER_RENEW_SEED=<seed> npm test -- renew-crash
 * (CREDBROKER_RENEW_CRASHES sets the number of crashes, CREDBROKER_RENEW_LANES the bots run side
 * by side; every bot has its own seeded sequence, so parallelism does not change it).
 */
import assert from 'node:assert/strict'
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { DirectoryDestination } from '../../lib/adapters/directory/destination.ts'
import { addJoinToken } from '../../lib/auth/bots.ts'
import { fingerprint } from '../../lib/auth/join-token.ts'
import { AuthClient } from '../../lib/bot/auth-client.ts'
import { generateClientKey } from '../../lib/bot/keys.ts'
import { certifiesKey, loadStoredIdentity } from '../../lib/bot/renewal-storage.ts'
import {
  prepareRunner,
  type RenewServer,
  type Runner,
  runBot,
  startRenewServer,
} from '../helpers/renew-processes.ts'
import { CRASH_POINTS, type CrashPoint } from '../helpers/renew-protocol.ts'

const SEED = Number(process.env.CREDBROKER_RENEW_SEED ?? 7_13228)
const CRASHES = Number(process.env.CREDBROKER_RENEW_CRASHES ?? 210)
const LANES = Number(process.env.CREDBROKER_RENEW_LANES ?? 3)

/** mulberry32: a small seeded generator, so a failing sequence of crash points can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** How the storage and the server relate after a crash. */
type After = 'renewed or untouched' | 'pending, not committed' | 'pending, committed (answer lost)'

interface Lane {
  readonly dir: string
  readonly token: string
  instance: string
}

describe('e2e: renewal survives SIGKILL at every point (fault injection)', { timeout: 180_000 }, () => {
  let server: RenewServer
  let runner: Runner
  let root: string
  const fired = new Map<CrashPoint, number>()
  const states = new Map<After, number>()
  let commits = 0
  let started = 0

  before(async () => {
    // tmpfs when there is one: a SIGKILL loses no page cache, so what is tested is the same, and
    // the directory storage's fsyncs (a dozen per renewal) cost nothing there.
    root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'credbroker-renew-crash-'))
    runner = await prepareRunner()
    server = await startRenewServer()
  })

  after(async () => {
    await server?.close()
    runner?.cleanUp()
    rmSync(root, { recursive: true, force: true })
  })

  /** The storage and the server agree, and nothing is locked. */
  async function assertConsistent(lane: Lane): Promise<After> {
    const { resources } = server.service.deps
    assert.deepEqual((await resources.list('lock')).items, [], 'no lock, ever')
    const stored = await loadStoredIdentity(new DirectoryDestination({ path: lane.dir }))
    assert.ok(stored, 'the storage always holds an identity')
    assert.equal(stored.state.bot_instance_id, lane.instance, 'the same bot instance throughout')
    assert.ok(certifiesKey(stored.identity.tlsCertPem, stored.identity.key), 'tlscert is for key')
    const instance = await resources.get('bot_instance', `example/${lane.instance}`)
    const { generation, last_renewal } = instance.status
    const names = [...(await new DirectoryDestination({ path: lane.dir }).readAll()).keys()]
    if (!stored.pending) {
      assert.deepEqual(names, ['key', 'key-cert.pub', 'state.json', 'tlscert'])
      assert.equal(stored.state.generation, generation)
      return 'renewed or untouched'
    }
    assert.equal(names.length, 6)
    if (generation === stored.state.generation) return 'pending, not committed'
    // The server moved on with exactly this pending renewal: the next start collects it.
    assert.equal(generation, stored.state.generation + 1)
    assert.equal(last_renewal?.request_id, stored.pending.file.request_id)
    const pendingSpki = createPublicKey(createPrivateKey(stored.pending.keyPem)).export({
      type: 'spki',
      format: 'der',
    })
    assert.equal(last_renewal?.public_key_fingerprint, fingerprint(pendingSpki))
    return 'pending, committed (answer lost)'
  }

  async function runLane(index: number, crashes: number): Promise<void> {
    const random = seeded(SEED + index)
    const { token } = await addJoinToken(server.service.deps, 'example', 24 * 3600_000)
    const lane: Lane = { dir: join(root, `bot-${index}`), token, instance: '' }
    const args = { authUrl: server.url, storageDir: lane.dir, token }
    const joined = await runBot(runner, server, {
      ...args,
      nowMs: +server.clock.now(),
      crash: null,
      refreshes: 1,
    })
    assert.equal(joined.code, 0, JSON.stringify(joined.messages))
    const first = joined.messages[0]
    assert.ok(first?.type === 'renewed' && first.generation === 1)
    lane.instance = first.instance

    for (let i = 0; i < crashes; i++) {
      const point = CRASH_POINTS[Math.floor(random() * CRASH_POINTS.length)] as CrashPoint
      const artifact = 1 + Math.floor(random() * 7) // 7: past the last file, i.e. before the swap
      const context = `seed ${SEED + index}, crash ${i + 1}: ${point} (artifact ${artifact})`
      server.clock.advance(1000)
      started++
      const run = await runBot(runner, server, {
        ...args,
        nowMs: +server.clock.now(),
        crash: { point, artifact },
        refreshes: 3,
      })
      assert.equal(run.signal, 'SIGKILL', `${context}: ${JSON.stringify(run)}`)
      assert.ok(!run.messages.some((m) => m.type === 'failed'), `${context}: ${JSON.stringify(run.messages)}`)
      const crash = run.messages.find((m) => m.type === 'crash')
      const reached = crash?.type === 'crash' ? crash.point : 'server-committed'
      assert.equal(reached, point, context)
      fired.set(point, (fired.get(point) ?? 0) + 1)
      commits += run.messages.filter((m) => m.type === 'renewed').length
      const state = await assertConsistent(lane).catch((err: Error) => {
        err.message = `${context}: ${err.message}`
        throw err
      })
      states.set(state, (states.get(state) ?? 0) + 1)
    }

    // Assess: one more start finishes whatever was left and renews; the identity works.
    const last = await runBot(runner, server, {
      ...args,
      nowMs: +server.clock.now(),
      crash: null,
      refreshes: 1,
    })
    assert.equal(last.code, 0, JSON.stringify(last.messages))
    const instance = await server.service.deps.resources.get('bot_instance', `example/${lane.instance}`)
    assert.deepEqual(last.messages, [
      { type: 'renewed', generation: instance.status.generation, instance: lane.instance },
    ])
    const stored = await loadStoredIdentity(new DirectoryDestination({ path: lane.dir }))
    assert.ok(stored && !stored.pending)
    const client = new AuthClient({ baseUrl: server.url, clock: server.clock })
    const certs = await client.certs(stored.identity, {
      publicKeyPem: generateClientKey().publicPem,
      roles: ['access'],
      ttlSeconds: 600,
    })
    assert.deepEqual(certs.identity.roles, ['access'])
    assert.equal(certs.identity.impersonator, 'bot-example')
  }

  it(`ok/${CRASHES} renewals, each killed at a random point: never locked, always a working identity`, async (t) => {
    const startedAt = performance.now()
    const perLane = Math.ceil(CRASHES / LANES)
    await Promise.all(Array.from({ length: LANES }, (_, i) => runLane(i, perLane)))

    assert.ok(started >= 200, `${started} crashes`)
    for (const point of CRASH_POINTS)
      assert.ok((fired.get(point) ?? 0) >= 10, `${point} fired ${fired.get(point)}`)
    assert.ok((states.get('pending, committed (answer lost)') ?? 0) >= 20, 'lost answers were exercised')
    const mismatches = (await server.service.deps.store.list('audit/')).items.filter(
      (i) => (JSON.parse(i.value) as { type: string }).type === 'cert.generation_mismatch',
    )
    assert.equal(mismatches.length, 0)
    t.diagnostic(
      `seed ${SEED}, ${LANES} bots, ${started} crashes, ${commits} completed refreshes, ` +
        `${Math.round(performance.now() - startedAt)} ms, runner: ${runner.how}`,
    )
    t.diagnostic(`crash points: ${JSON.stringify(Object.fromEntries(fired))}`)
    t.diagnostic(`states after a crash: ${JSON.stringify(Object.fromEntries(states))}`)
  })
})
