/**
 * The output e2e tests' shared set-up: an auth service served over real HTTP on 127.0.0.1 (in-memory
 * ports, the system clock, because real consumers check validity against the real time), the
 * documents a test registers, and one bot cycle (`runCycle`, as `credbroker bot --oneshot` runs it)
 * with the outputs the test configures.
 *
 * @example
 * ```ts
 * const auth = await startLoopbackAuth({ clusterName: 'localhost', documents: [role, app] })
 * const run = await runBotOnce(auth, {
 *   bot: 'apps', roles: ['app-reader'], baseDir: dir,
 *   outputs: [{ type: 'application', name: 'grafana', app_name: 'grafana', roles: ['app-reader'],
 *     destination: { type: 'directory', path: 'grafana' } }],
 * })
 * assert.equal(outputResult(run, 'grafana').ok, true)
 * await auth.close()
 * ```
 */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { MemoryKeyStore } from '../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../lib/adapters/memory/store.ts'
import { addBot } from '../../lib/auth/bots.ts'
import { type AuthService, createAuthService } from '../../lib/auth/service.ts'
import { AuthClient } from '../../lib/bot/auth-client.ts'
import { type CycleResult, type OutputResult, runCycle } from '../../lib/bot/bot.ts'
import { type BotConfig, validateBotConfig } from '../../lib/bot/config.ts'
import { openBotDestinations } from '../../lib/bot/destinations.ts'
import { systemClock } from '../../lib/clock.ts'
import { silentLogger } from '../../lib/log.ts'
import type { Destination } from '../../lib/ports/destination.ts'
import { cryptoRandom } from '../../lib/random.ts'
import { validateResource } from '../../lib/resources/parse.ts'
import { applyResources } from '../../lib/services/apply.ts'

export interface LoopbackAuth {
  readonly service: AuthService
  /** `http://127.0.0.1:<port>`: the bot's `auth_server`. */
  readonly url: string
  /** Stops the HTTP server. Safe to call twice. */
  close(): Promise<void>
}

/**
 * Starts the auth service on a free port of 127.0.0.1 and registers `documents` (plain objects
 * as in YAML, validated like `credbroker apply` does).
 * @throws InvalidResourceError for a document that does not validate.
 */
export async function startLoopbackAuth(options: {
  readonly clusterName: string
  readonly documents?: readonly unknown[]
}): Promise<LoopbackAuth> {
  const service = await createAuthService({
    clusterName: options.clusterName,
    publicAddr: 'http://127.0.0.1',
    store: new MemoryStore(),
    keys: new MemoryKeyStore(),
    clock: systemClock,
    random: cryptoRandom,
    log: silentLogger,
  })
  await applyResources(service.deps.resources, (options.documents ?? []).map(validateResource))
  const server = serve({ fetch: service.app.fetch, hostname: '127.0.0.1', port: 0 })
  await new Promise((listening) => server.once('listening', listening))
  const { port } = server.address() as AddressInfo
  let closed: Promise<void> | undefined
  return {
    service,
    url: `http://127.0.0.1:${port}`,
    close() {
      closed ??= new Promise((done) => server.close(() => done()))
      return closed
    },
  }
}

export interface BotRun {
  readonly config: BotConfig
  readonly cycle: CycleResult
  /** Each output's destination, by output name: how a test reads a memory destination. */
  readonly destinations: ReadonlyMap<string, Destination>
}

/**
 * Creates bot `bot` (may impersonate `roles`), then runs one cycle of a bot configured with
 * `outputs` (raw entries as in `bot.yaml`; relative paths resolve against `baseDir`), joined with
 * a fresh token and keeping its identity in memory.
 * @throws InvalidConfigError when the outputs do not make a valid configuration.
 */
export async function runBotOnce(
  auth: LoopbackAuth,
  options: {
    readonly bot: string
    readonly roles: readonly string[]
    readonly baseDir: string
    readonly outputs: readonly unknown[]
  },
): Promise<BotRun> {
  const { token } = await addBot(auth.service.deps, 'e2e', { name: options.bot, roles: options.roles })
  const { config } = validateBotConfig(
    {
      version: 'v1',
      auth_server: auth.url,
      onboarding: { join_method: 'token', token },
      storage: { type: 'memory' },
      oneshot: true,
      outputs: options.outputs,
    },
    { baseDir: options.baseDir },
  )
  const { storage, destinations } = openBotDestinations(config, systemClock)
  const client = new AuthClient({ baseUrl: config.authServer })
  const cycle = await runCycle({
    config,
    client,
    storage,
    destinations,
    clock: systemClock,
    log: silentLogger,
  })
  return { config, cycle, destinations }
}

/** The result of output `name`; throws when the cycle has none (a test mistake). */
export function outputResult(run: BotRun, name: string): OutputResult {
  const result = run.cycle.outputs.find((o) => o.output === name)
  if (!result) throw new TypeError(`the cycle has no output named ${name}`)
  return result
}

/** Every artifact output `name` holds now, as text. */
export async function readOutput(run: BotRun, name: string): Promise<Map<string, string>> {
  const destination = run.destinations.get(name)
  if (!destination) throw new TypeError(`the bot has no output named ${name}`)
  const files = await destination.readAll()
  return new Map([...files].map(([file, bytes]) => [file, Buffer.from(bytes).toString('utf8')]))
}
