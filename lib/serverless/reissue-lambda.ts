/**
 * The reissue endpoint as a Lambda handler, for two kinds of events:
 *
 * - **Function URL** requests (`AuthType: AWS_IAM`): each becomes a Fetch request for the reissue
 *   app (`lib/reissue/app.ts`); the caller is the IAM principal AWS verified and put in
 *   `requestContext.authorizer.iam` — never a header.
 * - **Auth-service events** delivered by direct invoke from an EventBridge rule
 *   (`reissue-event.ts`): a lock removed, a role changed, a CA rotation phase reissues every
 *   output, with the event type as the reason. Events from another source or bus are refused.
 *
 * Both go through one {@link RunCoordinator}: an event that arrives during a requested reissue
 * joins it, and each run is a one-shot cycle under the storage's one-shot lease, like the rotate
 * Lambda's. A warm container keeps the schedule state (for `GET /v1/status`), the coordinator,
 * the rate limiter and the idempotency keys in flight; with `CREDBROKER_REISSUE_REPLIES_SECRET`,
 * finished replies are also kept in that secret (`lib/reissue/reply-record.ts`), so a retry that
 * lands on a new container replays instead of issuing again.
 */
import { SecretsManagerDestination } from '../adapters/secrets-manager/destination.ts'
import type { CycleResult } from '../bot/bot.ts'
import { OutputSchedule } from '../bot/output-schedule.ts'
import { BrokerError } from '../errors.ts'
import type { Destination } from '../ports/destination.ts'
import { createReissueApp } from '../reissue/app.ts'
import { type IamPrincipal, iamAuthorizer, type ReissueEnv } from '../reissue/authorize.ts'
import { RunCoordinator } from '../reissue/coordinator.ts'
import { RateLimiter } from '../reissue/rate-limit.ts'
import { ReplyRecord } from '../reissue/reply-record.ts'
import { type ReissueOutcome, runReissue } from '../reissue/run.ts'
import {
  type FunctionUrlEvent,
  type FunctionUrlResult,
  requestFromEvent,
  resultFromResponse,
} from './function-url.ts'
import { createLambdaBot, type LambdaBotDeps } from './lambda-bot.ts'
import type { ReissueLambdaConfig } from './reissue-config.ts'
import { type AuthEventBridgeEvent, acceptAuthEvent, isEventBridgeEvent } from './reissue-event.ts'

export interface ReissueLambdaDeps extends LambdaBotDeps {
  /** Where finished replies are kept; built from `repliesSecret` when absent (tests inject one). */
  readonly replyStore?: Destination
}

/** What an event-triggered reissue returns (and logs as one JSON line). */
export interface ReissueEventOutcome extends ReissueOutcome {
  /** The event's detail-type: `lock.deleted`, `role.updated`, `ca.rotation`… */
  readonly trigger: string
  readonly event_id?: string
}

/** An event-triggered reissue with a failed output: the invocation fails (retries, error metric). */
export class ReissueFailedError extends BrokerError {
  override readonly code = 'ERR_OUTPUTS_FAILED' as const
  override readonly status = 502 as const
  readonly outcome: ReissueEventOutcome
  constructor(outcome: ReissueEventOutcome) {
    const failed = outcome.outputs.filter((o) => !o.ok).map((o) => `${o.output} (${o.ok ? '' : o.code})`)
    super(`${failed.length} of ${outcome.outputs.length} outputs failed: ${failed.join(', ')}`)
    this.outcome = outcome
  }
}

export type ReissueLambdaEvent = FunctionUrlEvent | AuthEventBridgeEvent

export function createReissueHandler(config: ReissueLambdaConfig, deps: ReissueLambdaDeps) {
  const schedule = new OutputSchedule()
  const bot = createLambdaBot(config, deps, { schedule })
  const outputs = config.bot.outputs.map((o) => o.name)
  const runs = new RunCoordinator()
  let identityNotAfter: Date | undefined
  const reissue = async (names: readonly string[]): Promise<CycleResult> => {
    const result = await bot.run({ only: names })
    identityNotAfter = result.identity.notAfter
    return result
  }
  const replyStore = deps.replyStore ?? repliesSecretOf(config, deps)

  const app = createReissueApp({
    outputs,
    schedule,
    ping: () => bot.client.ping(),
    identityNotAfter: () => identityNotAfter,
    runs,
    authorize: iamAuthorizer(config.allowedArns),
    clock: deps.clock,
    log: deps.log,
    limiter: new RateLimiter({ clock: deps.clock, perMinute: config.perMinute }),
    reissue,
    ...(replyStore && { replies: new ReplyRecord({ destination: replyStore, clock: deps.clock }) }),
  })

  const onEvent = async (event: AuthEventBridgeEvent): Promise<ReissueEventOutcome> => {
    let trigger: ReturnType<typeof acceptAuthEvent>
    try {
      trigger = acceptAuthEvent(event, config.eventBus)
    } catch (err) {
      deps.log.error('event refused', {
        source: event.source,
        detail_type: event['detail-type'],
        error: err instanceof Error ? err.message : String(err),
      })
      throw err
    }
    const outcome: ReissueEventOutcome = {
      trigger: trigger.type,
      ...(trigger.id !== undefined && { event_id: trigger.id }),
      ...(await runReissue({ reissue, runs, log: deps.log }, outputs, {
        caller: `event:${event.source}`,
        reason: trigger.type,
      })),
    }
    deps.log.info(`reissue ${outcome.ok ? 'succeeded' : 'failed'}`, { result: JSON.stringify(outcome) })
    if (!outcome.ok) throw new ReissueFailedError(outcome)
    return outcome
  }

  async function handler(event: FunctionUrlEvent): Promise<FunctionUrlResult>
  async function handler(event: AuthEventBridgeEvent): Promise<ReissueEventOutcome>
  async function handler(event: ReissueLambdaEvent): Promise<FunctionUrlResult | ReissueEventOutcome>
  async function handler(event: ReissueLambdaEvent): Promise<FunctionUrlResult | ReissueEventOutcome> {
    if (isEventBridgeEvent(event)) return onEvent(event)
    let request: Request
    try {
      request = requestFromEvent(event, config.publicOrigin)
    } catch (err) {
      // A misrouted trigger: a deployment error, answered like Hono's adapter does.
      deps.log.error('not a Function URL event', { error: err instanceof Error ? err.message : String(err) })
      return {
        statusCode: 400,
        headers: { 'content-type': 'application/json' },
        body: '{"code":"ERR_BAD_REQUEST","message":"bad event"}',
      }
    }
    const env: ReissueEnv = { iam: iamPrincipalOf(event) }
    return resultFromResponse(await app.fetch(request, env))
  }
  return handler
}

/** The replies secret (`CREDBROKER_REISSUE_REPLIES_SECRET`), in the bot's region and endpoint. */
function repliesSecretOf(config: ReissueLambdaConfig, deps: ReissueLambdaDeps): Destination | undefined {
  if (config.repliesSecret === undefined) return undefined
  return new SecretsManagerDestination({
    name: config.repliesSecret,
    clientConfig: {
      region: config.region,
      ...(config.secretsManagerEndpoint !== undefined && { endpoint: config.secretsManagerEndpoint }),
    },
    tags: { bot: config.botName ?? 'unknown', output: 'reissue-replies' },
    description: `credbroker: reissue replies of bot "${config.botName ?? 'unknown'}", by Idempotency-Key`,
    clock: deps.clock,
  })
}

/** `requestContext.authorizer.iam` of an AWS_IAM Function URL; absent with `AuthType: NONE`. */
function iamPrincipalOf(event: FunctionUrlEvent): IamPrincipal | undefined {
  const iam = (event.requestContext as { authorizer?: { iam?: Record<string, unknown> } }).authorizer?.iam
  if (typeof iam !== 'object' || iam === null) return undefined
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined)
  return { userArn: text(iam.userArn), accountId: text(iam.accountId) }
}
