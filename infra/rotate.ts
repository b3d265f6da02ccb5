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
import { awsContext } from './aws-context.ts'
import { loadDeployedBotConfig } from './bot-config.ts'
import { type InfraConfig, roleName } from './config.ts'
import { rotatePermissions } from './iam.ts'
import { baseUrl, LAMBDA_DEFAULTS } from './lambda.ts'

/** Where the bot config lands in the function's package (its working directory). */
const BOT_CONFIG_IN_PACKAGE = 'bot.yaml'

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
    ...LAMBDA_DEFAULTS,
    name,
    description: `credbroker ${config.stage}: bot ${config.botName}, renews its outputs into Secrets Manager`,
    handler: 'functions/rotate/handler.handler',
    memory: '512 MB',
    timeout: '5 minutes',
    concurrency: { reserved: 1 },
    // Lambda's own retries of a failed asynchronous run (its default, stated).
    retries: 2,
    environment: {
      CREDBROKER_BOT_CONFIG_FILE: BOT_CONFIG_IN_PACKAGE,
      CREDBROKER_AUTH_SERVER: deps.auth.url.apply(baseUrl),
      CREDBROKER_BOT_NAME: config.botName,
      CREDBROKER_LOG_LEVEL: config.logLevel,
    },
    copyFiles: [{ from: config.botConfigFile, to: BOT_CONFIG_IN_PACKAGE }],
    permissions: awsContext().apply((aws) =>
      rotatePermissions({
        aws,
        functionName: name,
        secretPrefix: config.secretPrefix,
        secretRegions: bot.secretRegions,
        secretKmsKeyArns: bot.secretKmsKeyArns,
      }),
    ),
    transform: {
      role: (args) => {
        // A fixed name: `iam` join tokens match the bot by its assumed-role ARN.
        args.name = awsContext().apply((aws) => roleName(name, aws.region))
        // Instead of AWSLambdaBasicExecutionRole (logs:* on every log group): the log
        // statement in `permissions` covers this function's own group only.
        args.managedPolicyArns = []
      },
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
  const name = config.names.rotateFunction
  return awsContext().apply(
    (aws) => `arn:${aws.partition}:sts::${aws.account}:assumed-role/${roleName(name, aws.region)}/${name}`,
  )
}
