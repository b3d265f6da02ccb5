/**
 * A reissue app over a {@link scheduledBot} (the real auth service in memory, memory outputs
 * `a` and `b`), with a run coordinator shared with whatever daemon the test starts.
 */
import { type CycleResult, runCycle } from '../../lib/bot/bot.ts'
import { silentLogger } from '../../lib/log.ts'
import { createReissueApp } from '../../lib/reissue/app.ts'
import type { Authorizer } from '../../lib/reissue/authorize.ts'
import { RunCoordinator } from '../../lib/reissue/coordinator.ts'
import { RateLimiter } from '../../lib/reissue/rate-limit.ts'
import { type AuthHarness, authHarness } from './auth-harness.ts'
import { type ScheduledBot, scheduledBot } from './scheduled-bot.ts'

export interface ReissueBot {
  readonly h: AuthHarness
  readonly bot: ScheduledBot
  readonly runs: RunCoordinator
  readonly app: ReturnType<typeof createReissueApp>
  /** Successful writes of output `name` so far (one per issuance written). */
  readonly writes: (name: string) => number
}

export async function reissueBot(authorize: Authorizer, options: { perMinute?: number } = {}) {
  const h = await authHarness()
  const bot = await scheduledBot(h, { outputs: { a: {}, b: {} } })
  const runs = new RunCoordinator()
  let identity: Date | undefined
  const app = createReissueApp({
    outputs: bot.deps.config.outputs.map((o) => o.name),
    schedule: bot.schedule,
    ping: () => bot.deps.client.ping(),
    reissue: async (names): Promise<CycleResult> => {
      const result = await runCycle(bot.deps, { only: names })
      identity = result.identity.notAfter
      return result
    },
    identityNotAfter: () => identity,
    runs,
    authorize,
    clock: h.clock,
    log: silentLogger,
    limiter: new RateLimiter({ clock: h.clock, perMinute: options.perMinute ?? 6 }),
  })
  const writes = (name: string) => bot.destinations.get(name)?.written.length ?? 0
  return { h, bot, runs, app, writes } satisfies ReissueBot
}
