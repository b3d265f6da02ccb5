/**
 * The set-up of the CA rotation e2e tests: an auth service served over HTTP on 127.0.0.1 with a
 * {@link ManualClock} started at the real time (real consumers check validity against the real
 * time; the clock only moves when a test says so), a bot with identity outputs in directories,
 * and its daemon loop (`runDaemon`) driven one cycle at a time through injected sleep and wake.
 *
 * @example
 * ```ts
 * const auth = await startRotationAuth()
 * const bot = await identityBot(auth, { dir, outputs: ['ssh'] })
 * const daemon = await startSteppedDaemon(bot.deps, auth.clock) // the first cycle has run
 * await auth.rotate('init')
 * const cycle = await daemon.next() // one scheduled cycle
 * await daemon.stop()
 * ```
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import { serve } from '@hono/node-server'
import { MemoryKeyStore } from '../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../lib/adapters/memory/store.ts'
import { issueAdminIdentity } from '../../lib/auth/admin.ts'
import { addJoinToken } from '../../lib/auth/bots.ts'
import { parseCallerPublicKey } from '../../lib/auth/public-key.ts'
import { type AuthService, createAuthService } from '../../lib/auth/service.ts'
import { AuthClient, type CaBundleResponse } from '../../lib/bot/auth-client.ts'
import type { BotDeps, CycleResult } from '../../lib/bot/bot.ts'
import { validateBotConfig } from '../../lib/bot/config.ts'
import { type DaemonControl, runDaemon } from '../../lib/bot/daemon.ts'
import { openBotDestinations } from '../../lib/bot/destinations.ts'
import { generateClientKey } from '../../lib/bot/keys.ts'
import type { RotationStatus } from '../../lib/ca/rotation.ts'
import type { RotationPhase } from '../../lib/ca/rotation-phases.ts'
import { loadDocuments } from '../../lib/cli/load-documents.ts'
import { ManualClock } from '../../lib/clock.ts'
import { createLogger, silentLogger } from '../../lib/log.ts'
import type { Destination } from '../../lib/ports/destination.ts'
import { cryptoRandom } from '../../lib/random.ts'
import { applyResources } from '../../lib/services/apply.ts'

export interface RotationAuth {
  readonly service: AuthService
  readonly clock: ManualClock
  /** `http://127.0.0.1:<port>`. */
  readonly url: string
  /** An unauthenticated client (`/v1/cas`, `/v1/ping`). */
  readonly client: AuthClient
  /** What `GET /v1/cas` publishes now. */
  published(): Promise<CaBundleResponse>
  /**
   * Steps the user CA to `phase` through `POST /v1/ca/rotation`, as an administrator issued
   * just before by the CA's current signer (an old administrator certificate stops working after
   * the rotation, like any other).
   */
  rotate(phase: RotationPhase): Promise<RotationStatus>
  /** Stops the HTTP server. Safe to call twice. */
  close(): Promise<void>
}

/** Starts the auth service (example cluster, in-memory ports) on a free port of 127.0.0.1. */
export async function startRotationAuth(): Promise<RotationAuth> {
  const clock = new ManualClock(Date.now())
  const service = await createAuthService({
    clusterName: 'rotation.local',
    publicAddr: 'http://127.0.0.1',
    store: new MemoryStore({ clock }),
    keys: new MemoryKeyStore(),
    clock,
    random: cryptoRandom,
    log: silentLogger,
  })
  await applyResources(service.deps.resources, loadDocuments(resolve('examples/cluster')))
  const server = serve({ fetch: service.app.fetch, hostname: '127.0.0.1', port: 0 })
  await new Promise((listening) => server.once('listening', listening))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const client = new AuthClient({ baseUrl: url, clock })
  let closed: Promise<void> | undefined
  return {
    service,
    clock,
    url,
    client,
    published: () => client.cas(),
    async rotate(phase) {
      const key = generateClientKey()
      const certs = await issueAdminIdentity(service.deps, parseCallerPublicKey(key.publicPem), 600_000)
      const admin = { key: key.privateKey, tlsCertPem: certs.tlsCertPem }
      // `force`: the walk ends rotations at once, not a grace period after the signer changed.
      return client.request<RotationStatus>(admin, 'POST', '/v1/ca/rotation', {
        type: 'user',
        phase,
        ...(phase === 'standby' && { force: true }),
      })
    },
    close() {
      // The bot's client keeps connections alive; close() alone would wait for them.
      const http = server as Server
      closed ??= new Promise((done) => {
        http.closeAllConnections()
        http.close(() => done())
      })
      return closed
    },
  }
}

export interface IdentityBot {
  readonly deps: BotDeps
  /** Log lines (debug and up). */
  readonly lines: string[]
  /** Each output's directory, by output name. */
  readonly paths: ReadonlyMap<string, string>
}

/**
 * A token-joined bot of bot `example` with one `identity` output (role `access`: logins `alice`
 * and `credbroker`) per name in `outputs`, each written to the directory `<dir>/<name>`, keeping
 * its own identity in memory. Default lifetimes (TTL 1h, renewal interval 20m): an output is due
 * again 16 minutes after its issuance, so with a clock that moves by seconds only a rotation (or
 * a wake) renews it. `wrap` may wrap each destination (to watch or interfere with writes).
 */
export async function identityBot(
  auth: RotationAuth,
  options: {
    readonly dir: string
    readonly outputs: readonly string[]
    readonly wrap?: (name: string, destination: Destination) => Destination
  },
): Promise<IdentityBot> {
  const { token } = await addJoinToken(auth.service.deps, 'example', 24 * 3600_000)
  const { config } = validateBotConfig(
    {
      version: 'v1',
      auth_server: auth.url,
      onboarding: { join_method: 'token', token },
      storage: { type: 'memory' },
      outputs: options.outputs.map((name) => ({
        type: 'identity',
        name,
        roles: ['access'],
        destination: { type: 'directory', path: name },
      })),
    },
    { baseDir: options.dir },
  )
  const opened = openBotDestinations(config, auth.clock)
  const wrap = options.wrap ?? ((_: string, d: Destination) => d)
  const destinations = new Map([...opened.destinations].map(([name, d]) => [name, wrap(name, d)] as const))
  const lines: string[] = []
  return {
    deps: {
      config,
      client: new AuthClient({ baseUrl: auth.url, clock: auth.clock }),
      storage: opened.storage,
      destinations,
      clock: auth.clock,
      log: createLogger('debug', (line) => lines.push(line)),
    },
    lines,
    paths: new Map(options.outputs.map((name) => [name, join(options.dir, name)])),
  }
}

export interface SteppedDaemon {
  /** The result of the daemon's first cycle (it renews every output). */
  readonly first: CycleResult
  /** Ends the current sleep as its timer would: the next cycle renews what is due or a rotation needs. */
  next(): Promise<CycleResult>
  /** Ends the current sleep with a wake (a reload): the next cycle renews every output. */
  wake(): Promise<CycleResult>
  /** What each sleep between cycles was asked to wait (ms). */
  readonly sleeps: readonly number[]
  /** Aborts the loop and waits for it to return. */
  stop(): Promise<void>
}

/**
 * Runs `runDaemon` and returns once its first cycle is done and it sleeps. Each sleep between
 * cycles moves `clock` by `tickMs` (default 1 s) and lasts until the test ends it; retry sleeps
 * inside a cycle return at once. A test awaits a cycle only once the daemon sleeps again, so
 * nothing the daemon does after a cycle races with the test.
 * @throws the cycle's error when a driven cycle fails as a whole.
 */
export async function startSteppedDaemon(
  deps: BotDeps,
  clock: ManualClock,
  tickMs = 1000,
): Promise<SteppedDaemon> {
  const controller = new AbortController()
  const sleeps: number[] = []
  let inCycle = true
  let last: CycleResult | Error | undefined
  let endSleep: (() => void) | undefined
  let wakeNow: (() => void) | undefined
  let asleep: { resolve: (r: CycleResult | Error) => void; reject: (e: unknown) => void } | undefined
  const nextSleep = () =>
    new Promise<CycleResult | Error>((resolve, reject) => {
      asleep = { resolve, reject }
    })
  const control: DaemonControl = {
    signal: controller.signal,
    random: () => 0.5,
    wake: () =>
      new Promise<void>((resolve) => {
        wakeNow = resolve
      }),
    sleep: (ms, wake, signal) => {
      if (inCycle) return Promise.resolve() // a retry within a cycle
      sleeps.push(ms)
      clock.advance(tickMs)
      return new Promise<void>((resolve) => {
        endSleep = resolve
        void wake.then(resolve)
        signal.addEventListener('abort', () => resolve(), { once: true })
        if (last !== undefined) asleep?.resolve(last)
      })
    },
    onCycle: (result) => {
      inCycle = false
      last = result
    },
  }
  const firstSleep = nextSleep()
  const running = runDaemon(deps, control).catch((err: unknown) => {
    asleep?.reject(err)
    throw err
  })
  const cycle = async (end: (() => void) | undefined): Promise<CycleResult> => {
    if (!end) throw new TypeError('the daemon is not asleep')
    inCycle = true
    last = undefined
    const slept = nextSleep()
    end()
    const result = await slept
    if (result instanceof Error) throw result
    return result
  }
  const first = await firstSleep
  if (first instanceof Error) throw first
  return {
    first,
    next: () => cycle(endSleep),
    wake: () => cycle(wakeNow),
    sleeps,
    async stop() {
      controller.abort()
      await running.catch(() => {})
    },
  }
}
