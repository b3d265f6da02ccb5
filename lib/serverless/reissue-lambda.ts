/**
 * The reissue endpoint as a Lambda handler behind a Function URL with `AuthType: AWS_IAM`: each
 * event becomes a Fetch request for the reissue app (`lib/reissue/app.ts`); the caller is the
 * IAM principal AWS verified and put in `requestContext.authorizer.iam` — never a header.
 *
 * Like the rotate Lambda, each run is a one-shot cycle under the storage's one-shot lease. A warm
 * container keeps the schedule state (for `GET /v1/status`), the run coordinator (one run at a
 * time within the container; concurrent containers are kept apart by the storage lease), the
 * rate limiter and the idempotency keys; a cold start forgets them.
 */
import type { CycleResult } from '../bot/bot.ts'
import { OutputSchedule } from '../bot/output-schedule.ts'
import { createReissueApp } from '../reissue/app.ts'
import { type IamPrincipal, iamAuthorizer, type ReissueEnv } from '../reissue/authorize.ts'
import { RunCoordinator } from '../reissue/coordinator.ts'
import { RateLimiter } from '../reissue/rate-limit.ts'
import {
  type FunctionUrlEvent,
  type FunctionUrlResult,
  requestFromEvent,
  resultFromResponse,
} from './function-url.ts'
import { createLambdaBot, type LambdaBotDeps } from './lambda-bot.ts'
import type { ReissueLambdaConfig } from './reissue-config.ts'

export function createReissueHandler(config: ReissueLambdaConfig, deps: LambdaBotDeps) {
  const schedule = new OutputSchedule()
  const bot = createLambdaBot(config, deps, { schedule })
  let identityNotAfter: Date | undefined

  const app = createReissueApp({
    outputs: config.bot.outputs.map((o) => o.name),
    schedule,
    ping: () => bot.client.ping(),
    identityNotAfter: () => identityNotAfter,
    runs: new RunCoordinator(),
    authorize: iamAuthorizer(config.allowedArns),
    clock: deps.clock,
    log: deps.log,
    limiter: new RateLimiter({ clock: deps.clock, perMinute: config.perMinute }),
    reissue: async (outputs): Promise<CycleResult> => {
      const result = await bot.run({ only: outputs })
      identityNotAfter = result.identity.notAfter
      return result
    },
  })

  return async (event: FunctionUrlEvent): Promise<FunctionUrlResult> => {
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
}

/** `requestContext.authorizer.iam` of an AWS_IAM Function URL; absent with `AuthType: NONE`. */
function iamPrincipalOf(event: FunctionUrlEvent): IamPrincipal | undefined {
  const iam = (event.requestContext as { authorizer?: { iam?: Record<string, unknown> } }).authorizer?.iam
  if (typeof iam !== 'object' || iam === null) return undefined
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined)
  return { userArn: text(iam.userArn), accountId: text(iam.accountId) }
}
