/**
 * `credbroker start`: the embedded main job. Starts the auth service on a loopback address with
 * the embedded store, applies the example cluster, joins the example bot (a fresh join token is
 * minted when the bot has no stored identity) and writes its outputs, prints what was written,
 * then keeps renewing until interrupted (`--oneshot` stops after the first cycle). Running it
 * again reuses the state: same CAs, same bot instance, renewed identity. The bot holds the lease
 * on its storage meanwhile (`lease-lifecycle.ts`): another bot on that storage is refused.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'
import { addJoinToken } from '../../auth/bots.ts'
import { AuthClient } from '../../bot/auth-client.ts'
import { type CycleResult, runCycle } from '../../bot/bot.ts'
import { parseBotConfig } from '../../bot/config.ts'
import { openBotDestinations } from '../../bot/destinations.ts'
import { leaseBotStorage, withStorageLease } from '../../bot/lease-lifecycle.ts'
import type { Env } from '../../config/env.ts'
import { booleanFlag } from '../args.ts'
import type { Invocation } from '../command.ts'
import { type CliContext, withContext } from '../context.ts'
import { startLocalCluster } from '../local-cluster.ts'
import { type Progress, progressFor } from '../progress.ts'
import { abortOnSignals, runDaemonOnSignals } from '../signals.ts'
import { renderTable } from '../table.ts'
import { awsJoinDeps } from './bot.ts'

export const EXAMPLE_BOT_CONFIG = 'examples/bot.yaml'

export async function startCommand(
  ctx: CliContext,
  cwd: string,
  /** `env`: the process environment, for the STS region of an `iam` join. */
  options: { oneshot: boolean; env?: Env; progress?: Progress },
): Promise<number> {
  options.progress?.step('starting the auth service with the example cluster')
  const cluster = await startLocalCluster(ctx, cwd)
  try {
    // The example's relative paths (.credbroker/…) resolve against the state directory's parent:
    // the working directory by default, a test's temporary directory when the state lives there.
    const baseDir = ctx.config.store.kind === 'embedded' ? dirname(ctx.config.store.stateDir) : cwd
    const { config, warnings } = parseBotConfig(readFileSync(resolve(cwd, EXAMPLE_BOT_CONFIG), 'utf8'), {
      baseDir,
      source: EXAMPLE_BOT_CONFIG,
    })
    for (const warning of warnings) ctx.log.warn(warning)
    const opened = openBotDestinations(config, ctx.clock)
    if ((await opened.storage.read('state.json')) === undefined && config.onboarding.joinMethod === 'token') {
      await mintToken(ctx, cluster.service.deps, config.onboarding.token)
    }
    const mode = { ...config, oneshot: config.oneshot || options.oneshot }
    const { storage, lease } = leaseBotStorage(opened.storage, mode, ctx)
    const deps = {
      config,
      client: new AuthClient({ baseUrl: cluster.url }),
      storage,
      lease,
      destinations: opened.destinations,
      clock: ctx.clock,
      log: ctx.log,
      aws: await awsJoinDeps(config, options.env ?? {}),
    }
    const signal = mode.oneshot ? undefined : abortOnSignals() // see runDaemonOnSignals
    return await withStorageLease(lease, ctx.log, async () => {
      options.progress?.step(`joining the example bot and writing ${config.outputs.length} output(s)`)
      const first = await runCycle(deps, { isStartup: true })
      ctx.print(summary(baseDir, cluster.url, first, cluster.adminDir))
      if (mode.oneshot || first.outputs.some((o) => !o.ok)) return first.outputs.every((o) => o.ok) ? 0 : 1
      ctx.print(
        `\nRenewing every ${Math.round(config.lifetime.renewalIntervalMs / 60_000)}m; SIGHUP renews now; Ctrl-C stops.`,
      )
      await runDaemonOnSignals(deps, { waitFirst: true, signal })
      return 0
    })
  } finally {
    await cluster.close()
  }
}

/** Writes a fresh join token where the bot config reads it (0600). */
async function mintToken(
  ctx: CliContext,
  deps: Parameters<typeof addJoinToken>[0],
  source: { kind: string; path?: string },
) {
  if (source.kind !== 'file' || source.path === undefined) return
  const { token } = await addJoinToken(deps, 'example')
  mkdirSync(dirname(source.path), { recursive: true, mode: 0o700 })
  writeFileSync(source.path, `${token}\n`, { mode: 0o600 })
  chmodSync(source.path, 0o600)
  ctx.log.info('minted a join token for bot "example"', { file: source.path })
}

function summary(cwd: string, url: string, cycle: CycleResult, adminDir?: string): string {
  const rows = cycle.outputs.map((o) =>
    o.ok
      ? [
          o.output,
          relative(cwd, o.destination.replace(/^directory /, '')) || '.',
          o.principals.join(',') || '-',
          o.notAfter,
        ]
      : [o.output, o.destination, '-', `FAILED ${o.code}: ${o.message}`],
  )
  const lines = [
    `Auth service: ${url}  (bot instance ${cycle.identity.botInstanceId}, generation ${cycle.identity.generation})`,
    '',
    renderTable(['OUTPUT', 'PATH', 'PRINCIPALS', 'EXPIRES'], rows),
  ]
  const ssh = cycle.outputs.find((o) => o.ok && o.principals.length > 0)
  if (ssh?.ok) {
    const dir = relative(cwd, ssh.destination.replace(/^directory /, ''))
    lines.push(
      '',
      `Try it: ssh -F ${dir}/ssh_config ${ssh.principals[0]}@<host>   |   openssl x509 -in ${dir}/tlscert -noout -subject`,
    )
  }
  if (adminDir) lines.push(`Admin identity: ${relative(cwd, adminDir)}/ (key, tlscert)`)
  return lines.join('\n')
}

export function runStart(inv: Invocation): Promise<number> {
  return withContext({ ...inv.io, clock: inv.clock }, (ctx) =>
    startCommand(ctx, inv.io.cwd, {
      oneshot: booleanFlag(inv.flags, 'oneshot') === true,
      env: inv.io.env,
      progress: progressFor(inv.io),
    }),
  )
}
