/**
 * A rotation step taken while the bot is in the middle of a cycle loses nothing (issue 9): a bot
 * in daemon mode with two identity outputs in directories; the first output's destination takes
 * the user CA's next step (and makes the auth process reload) right after its write, so the
 * second output is issued under the new phase within the same cycle. Every set any destination
 * held is complete and consistent (key, TLS and SSH certificates of one key; the TLS certificate
 * verifies against the bundle written with it), and after the daemon's next cycle every output
 * holds a credential of the signing key, accepted against the published trust (node's X.509
 * verification and `ssh-keygen -L`).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runCycle } from '../../lib/bot/bot.ts'
import { rotateCa } from '../../lib/ca/rotation.ts'
import type { RotationPhase } from '../../lib/ca/rotation-phases.ts'
import { ThrottledError } from '../../lib/errors.ts'
import type { ArtifactContent, Destination, WriteMeta, WriteResult } from '../../lib/ports/destination.ts'
import { checkIdentitySet, readSet, sshFingerprint, trustOf } from '../helpers/identity-set.ts'
import {
  identityBot,
  type RotationAuth,
  startRotationAuth,
  startSteppedDaemon,
} from '../helpers/rotation-world.ts'

/** A destination that keeps a copy of every set it held, and can run a step after a write. */
class WatchedDestination implements Destination {
  readonly inner: Destination
  /** The set read back after every write, in order. */
  readonly held: Map<string, string>[] = []
  /** Runs once, after the next write has completed. */
  afterNextWrite: (() => Promise<void>) | undefined
  /** Errors thrown by the next write attempts, one each, before anything is written. */
  readonly failures: Error[] = []

  constructor(inner: Destination) {
    this.inner = inner
  }

  async write(artifacts: ReadonlyMap<string, ArtifactContent>, meta?: WriteMeta): Promise<WriteResult> {
    const failure = this.failures.shift()
    if (failure) throw failure
    const written = await this.inner.write(artifacts, meta)
    this.held.push(await readSet(this.inner))
    const step = this.afterNextWrite
    this.afterNextWrite = undefined
    await step?.()
    return written
  }
  read(name: string) {
    return this.inner.read(name)
  }
  readAll() {
    return this.inner.readAll()
  }
  describe() {
    return this.inner.describe()
  }
}

/** node's `fingerprint256` (`AB:CD:…`) as `/v1/cas` reports signing certificates (hex). */
const hex = (fingerprint256: string) => fingerprint256.replaceAll(':', '').toLowerCase()

interface MidRunCase {
  readonly name: string
  /** Steps taken (one daemon cycle each) before the cycle that is interrupted. */
  readonly before: readonly RotationPhase[]
  /** The step taken between the two outputs' writes. */
  readonly midRun: RotationPhase
  /** Whether that step changes the signing key (the two outputs then differ within the cycle). */
  readonly newSigner: boolean
}

const cases: readonly MidRunCase[] = [
  { name: 'init → update_clients', before: ['init'], midRun: 'update_clients', newSigner: true },
  {
    name: 'update_servers → standby',
    before: ['init', 'update_clients', 'update_servers'],
    midRun: 'standby',
    newSigner: false,
  },
  {
    name: 'update_clients → rollback',
    before: ['init', 'update_clients'],
    midRun: 'rollback',
    newSigner: true,
  },
]

describe('e2e: a user CA rotation step in the middle of a bot cycle', { timeout: 180_000 }, () => {
  let root: string
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'credbroker-rotation-midrun-'))
  })
  after(() => {
    if (root) rmSync(root, { recursive: true, force: true })
  })

  /** Takes `phase` as another auth process would, then makes this one reload at once. */
  const stepFromOutside = (auth: RotationAuth, phase: RotationPhase) => async () => {
    const { deps } = auth.service
    assert.ok(deps.keys)
    await rotateCa({ ...deps, keys: deps.keys }, { type: 'user', phase, user: 'admin', force: true })
    await deps.authorities?.refresh({ force: true })
  }

  for (const c of cases) {
    it(`ok/${c.name} between two outputs' writes: every output ends on a complete, valid credential`, async () => {
      // Prepare: two outputs, written in configuration order; the rotation up to the step.
      const auth = await startRotationAuth()
      const watched = new Map<string, WatchedDestination>()
      const bot = await identityBot(auth, {
        dir: join(root, c.midRun),
        outputs: ['first', 'second'],
        wrap: (name, inner) => {
          const w = new WatchedDestination(inner)
          watched.set(name, w)
          return w
        },
      })
      const first = watched.get('first') as WatchedDestination
      const second = watched.get('second') as WatchedDestination
      const daemon = await startSteppedDaemon(bot.deps, auth.clock)
      try {
        for (const phase of c.before) {
          await auth.rotate(phase)
          await daemon.next()
        }
        const writesBefore = { first: first.held.length, second: second.held.length }

        // Act: a reload renews both outputs; the step comes between the two writes.
        first.afterNextWrite = stepFromOutside(auth, c.midRun)
        const interrupted = await daemon.wake()
        const afterStep = await auth.published()
        assert.equal(afterStep.rotation?.user?.phase, c.midRun, 'the step was taken')
        assert.deepEqual(
          interrupted.outputs.map((o) => [o.output, o.ok]),
          [
            ['first', true],
            ['second', true],
          ],
        )
        const firstMid = await checkIdentitySet(await readSet(first), trustOf(afterStep))
        const secondMid = await checkIdentitySet(await readSet(second), trustOf(afterStep))
        assert.equal(
          firstMid.tlsIssuer !== secondMid.tlsIssuer,
          c.newSigner,
          'the second output was issued under the new phase',
        )
        const next = await daemon.next()

        // Assess: the next cycle reissued both; each is on the signing key and accepted against
        // what is published; no set either destination ever held was mixed.
        assert.deepEqual(
          next.outputs.map((o) => [o.output, o.ok]),
          [
            ['first', true],
            ['second', true],
          ],
          'the next cycle reissues every output',
        )
        const published = await auth.published()
        const signing = published.rotation?.user
        assert.ok(signing?.tls && signing.ssh)
        for (const [name, destination] of watched) {
          const path = bot.paths.get(name) as string
          const files = await readSet(destination)
          for (const [file, content] of files) {
            assert.equal(
              readFileSync(join(path, file), 'utf8'),
              content,
              `${name}/${file} as a tool reads it`,
            )
          }
          const facts = await checkIdentitySet(files, trustOf(published))
          assert.equal(hex(facts.tlsIssuer), signing.tls, `${name}: TLS certificate from the signing key`)
          assert.equal(
            facts.sshSigningCa,
            sshFingerprint(signing.ssh),
            `${name}: SSH certificate from the signing key`,
          )
          assert.ok(destination.held.length >= writesBefore[name as 'first' | 'second'] + 2)
          for (const [i, held] of destination.held.entries()) {
            await checkIdentitySet(held).catch((err: Error) => {
              throw new Error(`${name}: set #${i} is not consistent: ${err.message}`)
            })
          }
        }
      } finally {
        await daemon.stop()
        await auth.close()
      }
    })
  }
})

describe('e2e: a reissue that a rotation asks for and that fails', { timeout: 60_000 }, () => {
  let root: string
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'credbroker-rotation-retry-'))
  })
  after(() => {
    if (root) rmSync(root, { recursive: true, force: true })
  })

  /** A rotation step marks every output due until each succeeds (`OutputSchedule.markDue`). */
  it('ok/is retried by the next cycle: the output does not keep the old key until the schedule renews it', async () => {
    // Prepare: the rotation in init; the second output's destination will be throttled through
    // every attempt of the update_clients cycle (three attempts, see retry.ts).
    const auth = await startRotationAuth()
    const watched = new Map<string, WatchedDestination>()
    const bot = await identityBot(auth, {
      dir: root,
      outputs: ['first', 'second'],
      wrap: (name, inner) => {
        const w = new WatchedDestination(inner)
        watched.set(name, w)
        return w
      },
    })
    const second = watched.get('second') as WatchedDestination
    const daemon = await startSteppedDaemon(bot.deps, auth.clock)
    try {
      await auth.rotate('init')
      await daemon.next()
      second.failures.push(...[1, 2, 3].map(() => new ThrottledError('rate exceeded')))

      // Act: update_clients; the reissue of the second output fails; the daemon retries soon.
      await auth.rotate('update_clients')
      const reissue = await daemon.next()
      assert.deepEqual(
        reissue.outputs.map((o) => [o.output, o.ok]),
        [
          ['first', true],
          ['second', false],
        ],
      )
      const retry = await daemon.next()

      // Assess: the retry cycle renewed the second output, with the new signing key.
      const backoff = daemon.sleeps.at(-2) ?? Number.NaN
      assert.ok(backoff < 60_000, `the daemon came back soon after the failure (${backoff} ms)`)
      assert.deepEqual(
        retry.outputs.map((o) => o.output),
        ['second'],
        `the retry cycle renews the output the rotation still needs (skipped: ${retry.skipped.join(',')})`,
      )
      const published = await auth.published()
      const facts = await checkIdentitySet(await readSet(second), trustOf(published))
      assert.equal(hex(facts.tlsIssuer), published.rotation?.user?.tls)
    } finally {
      await daemon.stop()
      await auth.close()
    }
  })
})

describe('e2e: an on-demand reissue of one output right after a rotation step', { timeout: 60_000 }, () => {
  let root: string
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'credbroker-rotation-only-'))
  })
  after(() => {
    if (root) rmSync(root, { recursive: true, force: true })
  })

  /** A reissue of some outputs leaves the others due: the step is not consumed by the reissue. */
  it('ok/leaves the reissue of the other outputs to the next scheduled cycle', async () => {
    // Prepare: the rotation in init, seen by the daemon.
    const auth = await startRotationAuth()
    const bot = await identityBot(auth, { dir: root, outputs: ['first', 'second'] })
    const daemon = await startSteppedDaemon(bot.deps, auth.clock)
    try {
      await auth.rotate('init')
      await daemon.next()

      // Act: update_clients; before the daemon's next cycle, the reissue endpoint renews `first`
      // only (`lib/reissue/local-server.ts` runs `runCycle(bot, { only })` with the daemon's deps).
      await auth.rotate('update_clients')
      const reissue = await runCycle(bot.deps, { only: ['first'] })
      assert.deepEqual(
        reissue.outputs.map((o) => o.output),
        ['first'],
      )
      const next = await daemon.next()

      // Assess: the scheduled cycle still reissues `second`, which holds an old-key certificate.
      assert.ok(
        next.outputs.some((o) => o.output === 'second' && o.ok),
        `the daemon reissues second after the rotation step (skipped: ${next.skipped.join(',')})`,
      )
      const published = await auth.published()
      const second = bot.deps.destinations.get('second')
      assert.ok(second)
      const facts = await checkIdentitySet(await readSet(second), trustOf(published))
      assert.equal(hex(facts.tlsIssuer), published.rotation?.user?.tls)
    } finally {
      await daemon.stop()
      await auth.close()
    }
  })
})
