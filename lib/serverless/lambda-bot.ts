/**
 * The bot a Lambda function runs (rotate on a schedule, reissue on request): destinations from
 * the configuration, an auth client, the storage lease, the execution role's credentials for the
 * IAM join, and one-shot cycles under that lease. Built once per cold start.
 */
import { AuthClient } from '../bot/auth-client.ts'
import { type BotDeps, type CycleOptions, type CycleResult, runCycle } from '../bot/bot.ts'
import { openBotDestinations } from '../bot/destinations.ts'
import type { AwsCredentials } from '../bot/iam-signer.ts'
import { leaseBotStorage, withStorageLease } from '../bot/lease-lifecycle.ts'
import type { RetryDeps } from '../bot/retry.ts'
import type { Clock } from '../clock.ts'
import { type Env, optionalString } from '../config/env.ts'
import { InvalidConfigError } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { Destination } from '../ports/destination.ts'
import type { RotateLambdaConfig } from './rotate-config.ts'

export interface LambdaBotDeps {
  readonly clock: Clock
  readonly log: Logger
  /** The process environment, read at each invocation for the role's credentials. */
  readonly env: Env
  /** Destinations by output name, and storage (tests inject faulty ones); built when absent. */
  readonly destinations?: ReadonlyMap<string, Destination>
  readonly storage?: Destination
  readonly fetch?: typeof fetch
  /** Retries throttled issuances and writes within the run (the handler passes real time). */
  readonly retry?: RetryDeps
}

export interface LambdaBot {
  readonly client: AuthClient
  /**
   * One cycle under the storage lease: the first of this cold start reports itself as the
   * process start; `options` add to that (an output subset, say).
   */
  run(options?: Pick<CycleOptions, 'only'>): Promise<CycleResult>
}

export function createLambdaBot(
  config: RotateLambdaConfig,
  deps: LambdaBotDeps,
  extra: Pick<BotDeps, 'schedule'> = {},
): LambdaBot {
  const built = openBotDestinations(config.bot, deps.clock, {
    defaultRegion: config.region,
    ...(config.secretsManagerEndpoint !== undefined && {
      secretsManagerEndpoint: config.secretsManagerEndpoint,
    }),
    ...(config.botName !== undefined && { botName: config.botName }),
  })
  const client = new AuthClient({
    baseUrl: config.bot.authServer,
    clock: deps.clock,
    ...(deps.fetch && { fetch: deps.fetch }),
  })
  // A token-joined bot keeps its identity in a Secrets Manager storage that a CLI daemon (an
  // operator debugging with the same config) could share: take the one-shot lease like any bot.
  const leased = leaseBotStorage(deps.storage ?? built.storage, config.bot, deps)
  const botDeps: BotDeps = {
    config: config.bot,
    client,
    storage: leased.storage,
    destinations: deps.destinations ?? built.destinations,
    clock: deps.clock,
    log: deps.log,
    aws: { region: config.region, credentials: async () => roleCredentials(deps.env) },
    ...extra,
  }
  for (const warning of config.warnings) deps.log.warn(warning)
  const startedAt = deps.clock.now()
  let runs = 0
  return {
    client,
    run: (options = {}) => {
      runs++
      const isStartup = runs === 1
      return withStorageLease(leased.lease, deps.log, () =>
        runCycle(botDeps, { ...options, isStartup, startedAt, ...(deps.retry && { retry: deps.retry }) }),
      )
    },
  }
}

/** The execution role's credentials, which Lambda puts in the environment. */
export function roleCredentials(env: Env): AwsCredentials {
  const accessKeyId = optionalString(env, 'AWS_ACCESS_KEY_ID')
  const secretAccessKey = optionalString(env, 'AWS_SECRET_ACCESS_KEY')
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new InvalidConfigError(
      'AWS_ACCESS_KEY_ID',
      'the execution role credentials are missing from the environment',
    )
  }
  const sessionToken = optionalString(env, 'AWS_SESSION_TOKEN')
  return { accessKeyId, secretAccessKey, ...(sessionToken !== undefined && { sessionToken }) }
}
