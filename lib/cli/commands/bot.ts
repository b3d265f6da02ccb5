/**
 * `credbroker bot -c <config> [--oneshot]`: the bot alone (the `tbot start` of credbroker), against
 * the auth service its configuration names. One-shot mode runs one cycle and exits non-zero if any
 * output failed; otherwise it renews until interrupted (SIGHUP/SIGUSR1 renew at once) and, when the
 * config has a `reissue:` block, serves the reissue endpoint (`lib/reissue`) on that loopback address.
 *
 * Either way the bot holds the lease on its storage while it runs (`lease-lifecycle.ts`): a second
 * bot configured with the same storage exits 1 with `error [ERR_ALREADY_EXISTS]: the bot storage …
 * is in use by another bot process (…); give each bot its own storage`.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { AuthClient } from '../../bot/auth-client.ts'
import { runCycle } from '../../bot/bot.ts'
import type { AwsJoinDeps } from '../../bot/bot-identity.ts'
import { type BotConfig, parseBotConfig } from '../../bot/config.ts'
import { openBotDestinations } from '../../bot/destinations.ts'
import { stsRegion } from '../../bot/iam-signer.ts'
import { leaseBotStorage, withStorageLease } from '../../bot/lease-lifecycle.ts'
import { OutputSchedule } from '../../bot/output-schedule.ts'
import { systemRetryDeps } from '../../bot/retry.ts'
import { type Env, optionalString } from '../../config/env.ts'
import { BadRequestError } from '../../errors.ts'
import { RunCoordinator } from '../../reissue/coordinator.ts'
import { startReissueServer } from '../../reissue/local-server.ts'
import type { CliContext } from '../context.ts'
import { abortOnSignals, runDaemonOnSignals } from '../signals.ts'

export async function botCommand(
  ctx: Pick<CliContext, 'clock' | 'log' | 'print'>,
  cwd: string,
  options: {
    configPath: string | undefined
    oneshot: boolean
    /** The process environment, for the STS region of an `iam` join. */
    env?: Env
  },
): Promise<number> {
  if (options.configPath === undefined) throw new BadRequestError('bot needs -c <config file>')
  const path = resolve(cwd, options.configPath)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    throw new BadRequestError(`cannot read ${path}`)
  }
  const parsed = parseBotConfig(text, { baseDir: cwd, source: options.configPath })
  const config = options.oneshot ? { ...parsed.config, oneshot: true } : parsed.config
  for (const warning of parsed.warnings) ctx.log.warn(warning)
  const region =
    optionalString(options.env ?? {}, 'AWS_REGION') ?? optionalString(options.env ?? {}, 'AWS_DEFAULT_REGION')
  const opened = openBotDestinations(config, ctx.clock, region === undefined ? {} : { defaultRegion: region })
  const { storage, lease } = leaseBotStorage(opened.storage, config, ctx)
  const deps = {
    config,
    client: new AuthClient({ baseUrl: config.authServer }),
    storage,
    lease,
    destinations: opened.destinations,
    clock: ctx.clock,
    log: ctx.log,
    aws: await awsJoinDeps(config, options.env ?? {}),
    schedule: new OutputSchedule(),
  }
  if (config.oneshot) {
    const result = await withStorageLease(lease, ctx.log, () =>
      runCycle(deps, { isStartup: true, retry: systemRetryDeps }),
    )
    return result.outputs.every((o) => o.ok) ? 0 : 1
  }
  const signal = abortOnSignals() // before the lease: a SIGTERM while taking it still releases it
  await withStorageLease(lease, ctx.log, async () => {
    if (config.reissue === undefined) return runDaemonOnSignals(deps, { signal })
    // `reissue:` in the config: serve the endpoint on loopback; cycles and reissues share one queue.
    const runs = new RunCoordinator()
    const server = await startReissueServer(config.reissue, { bot: deps, schedule: deps.schedule, runs })
    try {
      await runDaemonOnSignals(deps, { signal, gate: runs, onCycle: server.observe })
    } finally {
      await server.close()
    }
  })
  return 0
}

/**
 * For `join_method: iam`: the AWS SDK's Node credentials chain (environment, profile, web
 * identity, ECS, IMDS; a Lambda's role arrives through the environment) and the region from
 * `AWS_REGION` / `AWS_DEFAULT_REGION` (else us-east-1). Loaded only when needed.
 */
export async function awsJoinDeps(config: BotConfig, env: Env): Promise<AwsJoinDeps | undefined> {
  if (config.onboarding.joinMethod !== 'iam') return undefined
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node')
  return {
    region: stsRegion(optionalString(env, 'AWS_REGION'), optionalString(env, 'AWS_DEFAULT_REGION')),
    credentials: defaultProvider(),
  }
}
