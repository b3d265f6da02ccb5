/**
 * A bot in a process of its own, for the renewal crash and theft tests: it refreshes its identity
 * (join, renew or resume a pending renewal) against a real auth service on 127.0.0.1, with a
 * directory storage, and dies by SIGKILL at the crash point it is told to. Started by
 * `renew-processes.ts` (bundled with esbuild, or through tsx), with an IPC channel.
 *
 * argv[2]: a JSON `RunnerArgs`; messages to the parent are `RunnerMessage`s (`renew-protocol.ts`):
 * - `arm` with the pending renewal's request id: the request is about to be sent and the crash
 *   point is `server-committed`; the runner waits for `armed`, after which the parent kills it
 *   once the server has committed that renewal, before the answer arrives;
 * - `renewed` after every completed refresh, `crash` just before killing itself, `failed` with
 *   the error code and message when a refresh throws (then it exits with code 1).
 *
 * With `crash: null` it does `refreshes` refreshes and exits 0. With a crash point it refreshes
 * until that point is reached (a resumed renewal has no pending write, so `pending-partial` and
 * `before-pending` are only met in the renewal after it), at most `refreshes` times.
 */
import { DirectoryDestination } from '../../lib/adapters/directory/destination.ts'
import { AuthClient } from '../../lib/bot/auth-client.ts'
import { type BotIdentityDeps, refreshBotIdentity } from '../../lib/bot/bot-identity.ts'
import type { RenewalStep } from '../../lib/bot/renew-identity.ts'
import type { Clock } from '../../lib/clock.ts'
import { isBrokerError } from '../../lib/errors.ts'
import { silentLogger } from '../../lib/log.ts'
import type { CrashPoint, RunnerArgs, RunnerMessage } from './renew-protocol.ts'

const args = JSON.parse(process.argv[2] ?? '') as RunnerArgs
const send = (message: RunnerMessage) =>
  new Promise<void>((resolve, reject) => {
    if (!process.send) throw new Error('the runner needs an IPC channel')
    process.send(message, (err: Error | null) => (err ? reject(err) : resolve()))
  })

/** Dies here and now, as a power cut would: no exit handlers, no flushing. */
async function crash(point: CrashPoint): Promise<never> {
  await send({ type: 'crash', point })
  process.kill(process.pid, 'SIGKILL')
  return new Promise<never>(() => {})
}

const clock: Clock = { now: () => new Date(args.nowMs) }
let phase: 'pending' | 'result' = 'pending'
let written = 0
const crashIn = (partial: CrashPoint) => args.crash?.point === partial

const storage = new DirectoryDestination({
  path: args.storageDir,
  clock,
  hooks: {
    async afterArtifact() {
      written++
      const point = phase === 'pending' ? 'pending-partial' : 'result-partial'
      if (crashIn(point) && written === args.crash?.artifact) await crash(point)
    },
    async beforeSwap() {
      const point = phase === 'pending' ? 'pending-partial' : 'result-partial'
      if (crashIn(point)) await crash(point) // `artifact` was past the set's size
    },
  },
})

async function at(step: RenewalStep): Promise<void> {
  if (step === 'after-response') {
    phase = 'result'
    written = 0
  }
  if (step === 'before-request' && crashIn('server-committed')) {
    const armed = new Promise<void>((resolve) => process.once('message', () => resolve()))
    // The pending renewal is saved by now: its request id tells the server which answer to lose.
    const pending = await storage.read('pending-renewal.json')
    const requestId = (JSON.parse(Buffer.from(pending ?? []).toString('utf8')) as { request_id: string })
      .request_id
    await send({ type: 'arm', requestId })
    await armed
    return
  }
  if (crashIn(step as CrashPoint)) await crash(step as CrashPoint)
}

// Not validateBotConfig: it would load zod in every child, a quarter of a child's start-up. The
// identity refresh reads only these two fields.
const config: BotIdentityDeps['config'] = {
  onboarding: { joinMethod: 'token', token: { kind: 'value', value: args.token } },
  lifetime: { ttlMs: 3600_000, renewalIntervalMs: 20 * 60_000 }, // the defaults
}
const client = new AuthClient({ baseUrl: args.authUrl, clock })

for (let i = 0; i < args.refreshes; i++) {
  phase = 'pending'
  written = 0
  try {
    const identity = await refreshBotIdentity({
      config,
      client,
      storage,
      clock,
      log: silentLogger,
      renewalHooks: { at },
    })
    await send({ type: 'renewed', generation: identity.generation, instance: identity.botInstanceId })
  } catch (err) {
    const code = isBrokerError(err) ? err.code : 'ERR_INTERNAL'
    await send({ type: 'failed', code, message: err instanceof Error ? err.message : String(err) })
    process.exit(1)
  }
}
process.exit(0)
