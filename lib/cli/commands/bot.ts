/**
 * `credbroker bot start|oneshot -c <config>` (and the older `bot -c <config> [--oneshot]`): the bot alone (the `tbot start` of credbroker), against
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
import { booleanFlag, stringFlag } from '../args.ts'
import type { Invocation } from '../command.ts'
import { type CliContext, openLoggingOnly } from '../context.ts'
import { type Progress, progressFor } from '../progress.ts'
import { abortOnSignals, runDaemonOnSignals } from '../signals.ts'
import { UsageError } from '../usage-error.ts'

export async function botCommand(
  ctx: Pick<CliContext, 'clock' | 'log' | 'print'>,
  cwd: string,
  options: {
    configPath: string | undefined
    oneshot: boolean
    /** The process environment, for the STS region of an `iam` join. */
    env?: Env
    /** Overrides the config file's `auth_server` (from `--auth-server` or CREDBROKER_AUTH_SERVER). */
    authServer?: string
    progress?: Progress
  },
): Promise<number> {
  if (options.configPath === undefined) throw new UsageError('bot needs -c <config file>')
  const path = resolve(cwd, options.configPath)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    throw new BadRequestError(`cannot read ${path}`)
  }
  const parsed = parseBotConfig(text, { baseDir: cwd, source: options.configPath })
  const config = {
    ...parsed.config,
    ...(options.oneshot && { oneshot: true }),
    ...(options.authServer !== undefined && { authServer: options.authServer.replace(/\/+$/, '') }),
  }
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
    options.progress?.step(`joining ${config.authServer} and writing ${config.outputs.length} output(s)`)
    const result = await withStorageLease(lease, ctx.log, () =>
      runCycle(deps, { isStartup: true, retry: systemRetryDeps }),
    )
    for (const o of result.outputs)
      options.progress?.step(
        o.ok ? `${o.output}: written, expires ${o.notAfter}` : `${o.output}: FAILED ${o.code}`,
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

function runBot(inv: Invocation, oneshot: boolean): Promise<number> {
  const authServer = stringFlag(inv.flags, 'auth-server') ?? inv.io.env.CREDBROKER_AUTH_SERVER?.trim()
  return botCommand(openLoggingOnly({ ...inv.io, clock: inv.clock }), inv.io.cwd, {
    env: inv.io.env,
    configPath: stringFlag(inv.flags, 'config'),
    oneshot,
    ...(authServer !== undefined && authServer !== '' && { authServer }),
    progress: progressFor(inv.io),
  })
}

export function runBotStart(inv: Invocation): Promise<number> {
  return runBot(inv, false)
}

export function runBotOneshot(inv: Invocation): Promise<number> {
  return runBot(inv, true)
}

/** `bot -c FILE [--oneshot]`: the command line from before `bot start|oneshot`. */
export function runBotLegacy(inv: Invocation): Promise<number> {
  return runBot(inv, booleanFlag(inv.flags, 'oneshot') === true)
}
