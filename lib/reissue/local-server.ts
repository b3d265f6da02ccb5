/**
 * The daemon's reissue endpoint on a loopback address (`reissue.listen` in the bot config):
 * `createReissueApp` over the daemon's own deps, schedule and run coordinator, served with
 * `@hono/node-server`. Bearer token from `reissue.token_file` (0600) when configured, otherwise
 * loopback peers only.
 *
 * @example
 * const server = await startReissueServer(listen, { bot: deps, runs, schedule })
 * // … runDaemon(deps, { …, gate: runs }) …
 * await server.close()
 */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { type BotDeps, type CycleResult, runCycle } from '../bot/bot.ts'
import type { ReissueListenConfig } from '../bot/config.ts'
import type { OutputSchedule } from '../bot/output-schedule.ts'
import { createReissueApp } from './app.ts'
import { localAuthorizer } from './authorize.ts'
import type { RunCoordinator } from './coordinator.ts'
import { readReissueToken } from './token-file.ts'

export interface LocalReissueDeps {
  /** The daemon's deps; `schedule` must be the one passed here. */
  readonly bot: BotDeps
  readonly schedule: OutputSchedule
  /** Shared with the daemon (`DaemonControl.gate`). */
  readonly runs: RunCoordinator
}

export interface LocalReissueServer {
  readonly url: string
  /** Pass as the daemon's `onCycle`: keeps the identity expiry in the status current. */
  observe(result: CycleResult | Error): void
  close(): Promise<void>
}

/**
 * @throws InvalidConfigError from the token file (read before listening).
 * @throws the listen error (address in use) as is.
 */
export async function startReissueServer(
  listen: ReissueListenConfig,
  deps: LocalReissueDeps,
): Promise<LocalReissueServer> {
  const token = listen.tokenFile === undefined ? undefined : readReissueToken(listen.tokenFile)
  const { bot } = deps
  let identity: Date | undefined
  const app = createReissueApp({
    outputs: bot.config.outputs.map((o) => o.name),
    schedule: deps.schedule,
    ping: () => bot.client.ping(),
    identityNotAfter: () => identity,
    nextRunAt: () => deps.schedule.nextRunAt,
    runs: deps.runs,
    authorize: localAuthorizer({ token }),
    clock: bot.clock,
    log: bot.log,
    // The daemon already holds the lease (taken around the whole daemon): confirm it, as a cycle does.
    reissue: async (outputs): Promise<CycleResult> => {
      await bot.lease?.confirm()
      const result = await runCycle(bot, { only: outputs })
      identity = result.identity.notAfter
      return result
    },
  })
  const server = serve({ fetch: app.fetch, hostname: listen.host, port: listen.port })
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })
  const { port } = server.address() as AddressInfo
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host
  bot.log.info('reissue endpoint listening', {
    url: `http://${host}:${port}`,
    auth: token ? 'token' : 'loopback',
  })
  let closed: Promise<void> | undefined
  return {
    url: `http://${host}:${port}`,
    observe(result) {
      if (!(result instanceof Error)) identity = result.identity.notAfter
    },
    close() {
      closed ??= new Promise((done) => server.close(() => done()))
      return closed
    },
  }
}
