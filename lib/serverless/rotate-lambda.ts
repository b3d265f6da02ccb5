/**
 * The scheduled bot as a Lambda handler: every invocation (an EventBridge schedule, or a manual
 * invoke) is one bot cycle — join with the function's IAM role (or renew a stored identity),
 * impersonate each output's roles, write each output's secret.
 *
 * One failing output never stops the others. The structured result is logged as one JSON line
 * and returned; if any output failed the invocation then fails ({@link RotateFailedError}), so
 * the schedule's retries, the function's error metric and its alarms see it.
 */
import { X509Certificate } from 'node:crypto'
import { AuthClient } from '../bot/auth-client.ts'
import { type CycleResult, runCycle } from '../bot/bot.ts'
import { openBotDestinations } from '../bot/destinations.ts'
import type { AwsCredentials } from '../bot/iam-signer.ts'
import { leaseBotStorage, withStorageLease } from '../bot/lease-lifecycle.ts'
import type { RetryDeps } from '../bot/retry.ts'
import type { Clock } from '../clock.ts'
import { type Env, optionalString } from '../config/env.ts'
import { BrokerError, InvalidConfigError } from '../errors.ts'
import { decodeIdentity } from '../identity/x509-encoding.ts'
import type { Logger } from '../log.ts'
import type { Destination } from '../ports/destination.ts'
import type { RotateLambdaConfig } from './rotate-config.ts'

export interface RotateOutcome {
  readonly ok: boolean
  readonly bot: string
  readonly bot_instance_id: string
  readonly outputs: ReadonlyArray<
    | {
        readonly output: string
        readonly ok: true
        readonly destination: string
        readonly serial: string
        readonly not_after: string
      }
    | {
        readonly output: string
        readonly ok: false
        readonly destination: string
        readonly code: string
        readonly message: string
      }
  >
}

/** The invocation failed because at least one output did; `outcome` says which. */
export class RotateFailedError extends BrokerError {
  override readonly code = 'ERR_OUTPUTS_FAILED' as const
  override readonly status = 502 as const
  readonly outcome: RotateOutcome
  constructor(outcome: RotateOutcome) {
    const failed = outcome.outputs.filter((o) => !o.ok).map((o) => `${o.output} (${o.ok ? '' : o.code})`)
    super(`${failed.length} of ${outcome.outputs.length} outputs failed: ${failed.join(', ')}`)
    this.outcome = outcome
  }
}

export interface RotateLambdaDeps {
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

export function createRotateHandler(config: RotateLambdaConfig, deps: RotateLambdaDeps) {
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
  const startedAt = deps.clock.now()
  let invocations = 0
  for (const warning of config.warnings) deps.log.warn(warning)

  return async (event: unknown): Promise<RotateOutcome> => {
    invocations++
    deps.log.info('rotation started', describeEvent(event))
    const result = await withStorageLease(leased.lease, deps.log, () =>
      runCycle(
        {
          config: config.bot,
          client,
          storage: leased.storage,
          destinations: deps.destinations ?? built.destinations,
          clock: deps.clock,
          log: deps.log,
          aws: { region: config.region, credentials: async () => roleCredentials(deps.env) },
        },
        { isStartup: invocations === 1, startedAt, ...(deps.retry && { retry: deps.retry }) },
      ),
    )
    const outcome = summarize(result)
    deps.log.info(`rotation ${outcome.ok ? 'succeeded' : 'failed'}`, { result: JSON.stringify(outcome) })
    if (!outcome.ok) throw new RotateFailedError(outcome)
    return outcome
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

function summarize(result: CycleResult): RotateOutcome {
  const outputs = result.outputs.map((o) =>
    o.ok
      ? {
          output: o.output,
          ok: true as const,
          destination: o.destination,
          serial: o.serial,
          not_after: o.notAfter,
        }
      : {
          output: o.output,
          ok: false as const,
          destination: o.destination,
          code: o.code,
          message: o.message,
        },
  )
  return {
    ok: outputs.every((o) => o.ok),
    bot: botName(result.identity.tlsCertPem),
    bot_instance_id: result.identity.botInstanceId,
    outputs,
  }
}

/** The bot's name, from the identity certificate it acts with. */
function botName(tlsCertPem: string): string {
  return decodeIdentity(new X509Certificate(tlsCertPem).raw).botName ?? 'unknown'
}

/** What the log says about the trigger: a schedule's rule and time, or a manual invoke. */
function describeEvent(event: unknown): Record<string, string | undefined> {
  if (typeof event !== 'object' || event === null) return { trigger: 'invoke' }
  const e = event as Record<string, unknown>
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined)
  return {
    trigger: text(e['detail-type']) ?? text(e.source) ?? 'invoke',
    event_id: text(e.id),
    scheduled_time: text(e.time),
  }
}
