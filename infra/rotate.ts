/**
 * The bot: `functions/rotate/handler.ts`, run by an EventBridge Scheduler schedule
 * (`sst.aws.CronV2`), `rate(20 minutes)` by default. Each run joins the auth service, renews
 * every output and writes it to Secrets Manager. One run at a time (reserved concurrency 1);
 * failed deliveries and failed runs are retried, and a run is idempotent (writes carry a
 * `ClientRequestToken` derived from the issuance).
 *
 * IAM ({@link rotatePermissions}): the Secrets Manager destination's actions on
 * `credbroker/<stage>/<bot>/*` only, in each region its outputs name; `kms:GenerateDataKey` and
 * `kms:Decrypt` through Secrets Manager on customer-managed keys its outputs name, if any; its
 * own log group. The IAM join needs nothing: `sts:GetCallerIdentity` is always allowed.
 */
import { loadDeployedBotConfig } from './bot-config.ts'
import { botFunctionArgs, botFunctionCallerArn, botRoleTransform } from './bot-function.ts'
import type { InfraConfig } from './config.ts'
import { rotatePermissions } from './iam.ts'

/** Lambda's limit on how long an asynchronous event may wait (6 hours). */
const MAX_EVENT_AGE_SECONDS = 21_600

export function createRotate(config: InfraConfig, deps: { auth: sst.aws.Function; root: string }) {
  const name = config.names.rotateFunction
  const { schedule } = config
  const bot = loadDeployedBotConfig({
    root: deps.root,
    file: config.botConfigFile,
    secretPrefix: config.secretPrefix,
    schedule,
  })
  for (const warning of bot.warnings) console.warn(`credbroker: ${config.botConfigFile}: ${warning}`)
  const fn = new sst.aws.Function('Rotate', {
    ...botFunctionArgs(config, { name, auth: deps.auth, bot, permissions: rotatePermissions }),
    description: `credbroker ${config.stage}: bot ${config.botName}, renews its outputs into Secrets Manager`,
    handler: 'functions/rotate/handler.handler',
    transform: {
      role: botRoleTransform(name),
      eventInvokeConfig: (args) => {
        // A run queued for longer than one interval is superseded by the next scheduled run.
        if (schedule.intervalMs !== undefined) {
          args.maximumEventAgeInSeconds = Math.min(
            MAX_EVENT_AGE_SECONDS,
            Math.max(60, schedule.intervalMs / 1000),
          )
        }
      },
    },
  })
  const cron = new sst.aws.CronV2('RotateSchedule', {
    function: fn,
    schedule: schedule.expression,
    // EventBridge Scheduler's retries of an invocation that could not be delivered (throttling).
    retries: 3,
  })
  return { fn, cron }
}

/** The ARN the rotate function joins as: the `aws_arn` of its `iam` join token. */
export function botCallerArn(config: InfraConfig) {
  return botFunctionCallerArn(config.names.rotateFunction)
}
