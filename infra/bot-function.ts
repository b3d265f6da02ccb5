/**
 * What the two functions that run the deployed bot share (`rotate.ts` on a schedule, `reissue.ts`
 * on demand): the bot's YAML copied into the package, the environment it reads, its permissions
 * on the bot's secrets, and a role with a fixed name, since `iam` join tokens match the bot by
 * its assumed-role ARN.
 */
import { awsContext } from './aws-context.ts'
import type { DeployedBot } from './bot-config.ts'
import { type InfraConfig, roleName } from './config.ts'
import type { rotatePermissions } from './iam.ts'
import { baseUrl, LAMBDA_DEFAULTS } from './lambda.ts'

/** Where the bot config lands in the function's package (its working directory). */
const BOT_CONFIG_IN_PACKAGE = 'bot.yaml'

/**
 * The `sst.aws.Function` arguments common to both bot functions; the caller adds its handler,
 * description, extra environment and its own `eventInvokeConfig` transform.
 */
export function botFunctionArgs(
  config: InfraConfig,
  input: {
    name: string
    auth: sst.aws.Function
    bot: DeployedBot
    /** The function's statements (`rotatePermissions`, `reissuePermissions`). */
    permissions: typeof rotatePermissions
  },
) {
  const { name, bot } = input
  return {
    ...LAMBDA_DEFAULTS,
    name,
    memory: '512 MB' as const,
    timeout: '5 minutes' as const,
    // One run at a time: two runs of one bot would race on its outputs and its storage.
    concurrency: { reserved: 1 },
    // Lambda's own retries of a failed asynchronous run (its default, stated).
    retries: 2,
    environment: {
      CREDBROKER_BOT_CONFIG_FILE: BOT_CONFIG_IN_PACKAGE,
      CREDBROKER_AUTH_SERVER: input.auth.url.apply(baseUrl),
      CREDBROKER_BOT_NAME: config.botName,
      CREDBROKER_LOG_LEVEL: config.logLevel,
    },
    copyFiles: [{ from: config.botConfigFile, to: BOT_CONFIG_IN_PACKAGE }],
    permissions: awsContext().apply((aws) =>
      input.permissions({
        aws,
        functionName: name,
        secretPrefix: config.secretPrefix,
        secretRegions: bot.secretRegions,
        secretKmsKeyArns: bot.secretKmsKeyArns,
      }),
    ),
  }
}

/** The role transform of a bot function: a fixed name, and no AWS-managed policy. */
export function botRoleTransform(name: string) {
  return (args: aws.iam.RoleArgs): undefined => {
    // A fixed name: `iam` join tokens match the bot by its assumed-role ARN.
    args.name = awsContext().apply((aws) => roleName(name, aws.region))
    // Instead of AWSLambdaBasicExecutionRole (logs:* on every log group): the log statement in
    // `permissions` covers this function's own group only.
    args.managedPolicyArns = []
    return undefined
  }
}

/** The ARN a bot function joins as: the `aws_arn` its `iam` join token must allow. */
export function botFunctionCallerArn(name: string) {
  return awsContext().apply(
    (aws) => `arn:${aws.partition}:sts::${aws.account}:assumed-role/${roleName(name, aws.region)}/${name}`,
  )
}
