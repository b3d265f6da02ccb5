/**
 * On-demand reissue: `functions/reissue/handler.ts` behind a Function URL with IAM auth, and the
 * EventBridge bus the auth function publishes reissue-triggering audit events on, with the rule
 * that delivers them to the function by direct invoke. Deployed only when
 * `CREDBROKER_DEPLOY_REISSUE_PRINCIPALS` names who may call it.
 *
 * - **Callers.** The URL's resource policy grants `lambda:InvokeFunctionUrl` to exactly the
 *   configured role and user ARNs (one `aws.lambda.Permission` each); the function checks the
 *   verified caller again against the same list (`CREDBROKER_REISSUE_ALLOWED_ARNS`: a role's
 *   sessions, `reissueCallerArns`), so an identity policy elsewhere in the account cannot widen it.
 * - **Events.** The rule on the bus matches `REISSUE_TRIGGER_PATTERN` (source `credbroker.auth`;
 *   `lock.deleted`, `role.*`, `ca.rotation`); only that rule may invoke the function through
 *   EventBridge (`lambda:InvokeFunction` for `events.amazonaws.com`, `SourceArn` = the rule).
 * - **One run at a time.** Reserved concurrency 1: requests and events never run two bot cycles
 *   at once in this function, and the replies record has one writer.
 * - **IAM** ({@link reissuePermissions}): the rotate function's permissions (the bot's outputs
 *   under `credbroker/<stage>/<bot>/*`, their KMS keys through Secrets Manager), its own log group.
 *   Its role is its own: the `iam` join token must allow its caller ARN too (`reissueCallerArn`).
 */
import { loadDeployedBotConfig } from './bot-config.ts'
import { botFunctionArgs, botFunctionCallerArn, botRoleTransform } from './bot-function.ts'
import type { InfraConfig } from './config.ts'
import { REISSUE_REPLIES_SECRET, REISSUE_TRIGGER_PATTERN } from './contracts.ts'
import { reissueCallerArns, reissuePermissions } from './iam.ts'

/** An event-triggered run queued longer than this is dropped: the schedule has renewed since. */
const MAX_EVENT_AGE_SECONDS = 3600

/** The bus for the auth service's reissue-triggering events, when reissue is deployed. */
export function createAuthEvents(config: InfraConfig): aws.cloudwatch.EventBus | undefined {
  if (config.reissue === undefined) return undefined
  return new aws.cloudwatch.EventBus('AuthEvents', { name: config.names.eventBus })
}

export function createReissue(
  config: InfraConfig,
  deps: { auth: sst.aws.Function; events: aws.cloudwatch.EventBus; root: string },
) {
  const reissue = config.reissue
  if (reissue === undefined) throw new TypeError('createReissue needs CREDBROKER_DEPLOY_REISSUE_PRINCIPALS')
  const name = config.names.reissueFunction
  // The same checks as the rotate function's (warnings are printed there).
  const bot = loadDeployedBotConfig({
    root: deps.root,
    file: config.botConfigFile,
    secretPrefix: config.secretPrefix,
    schedule: config.schedule,
  })
  const common = botFunctionArgs(config, { name, auth: deps.auth, bot, permissions: reissuePermissions })
  const fn = new sst.aws.Function('Reissue', {
    ...common,
    description: `credbroker ${config.stage}: bot ${config.botName}, reissues its outputs on request or on auth events`,
    handler: 'functions/reissue/handler.handler',
    url: { authorization: 'iam', cors: false },
    environment: {
      ...common.environment,
      CREDBROKER_REISSUE_ALLOWED_ARNS: reissueCallerArns(reissue.principals).join(','),
      CREDBROKER_REISSUE_REPLIES_SECRET: `${config.secretPrefix}${REISSUE_REPLIES_SECRET}`,
      CREDBROKER_REISSUE_EVENT_BUS: deps.events.name,
    },
    transform: {
      role: botRoleTransform(name),
      eventInvokeConfig: (args) => {
        args.maximumEventAgeInSeconds = MAX_EVENT_AGE_SECONDS
      },
    },
  })
  // The URL's resource policy: exactly the configured principals.
  const callers = reissue.principals.map(
    (principal, i) =>
      new aws.lambda.Permission(`ReissueUrlCaller${i}`, {
        action: 'lambda:InvokeFunctionUrl',
        function: fn.name,
        principal,
        functionUrlAuthType: 'AWS_IAM',
      }),
  )
  const rule = new aws.cloudwatch.EventRule('ReissueTrigger', {
    name: `${name}-trigger`,
    description: `credbroker ${config.stage}: auth events that reissue bot ${config.botName}'s outputs`,
    eventBusName: deps.events.name,
    eventPattern: JSON.stringify(REISSUE_TRIGGER_PATTERN),
  })
  const invokeByRule = new aws.lambda.Permission('ReissueTriggerInvoke', {
    action: 'lambda:InvokeFunction',
    function: fn.name,
    principal: 'events.amazonaws.com',
    sourceArn: rule.arn,
  })
  const target = new aws.cloudwatch.EventTarget(
    'ReissueTriggerTarget',
    { rule: rule.name, eventBusName: deps.events.name, arn: fn.arn, targetId: 'reissue' },
    { dependsOn: [invokeByRule] },
  )
  return { fn, url: fn.url, callers, rule, target }
}

/** The ARN the reissue function joins as: its `iam` join token must allow it (besides rotate's). */
export function reissueCallerArn(config: InfraConfig) {
  return botFunctionCallerArn(config.names.reissueFunction)
}
