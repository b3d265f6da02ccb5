/**
 * `sst.config.ts` with `CREDBROKER_DEPLOY_REISSUE_PRINCIPALS` set, under Pulumi's mocks
 * (`test/helpers/sst-synth.ts`): the reissue function behind an IAM Function URL whose resource
 * policy names exactly the configured principals, reserved concurrency 1, the rotate function's
 * permissions (never `*`), the auth events bus the auth function may put events on, and the rule
 * that alone may invoke the function with those events.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { REISSUE_TRIGGER_PATTERN } from '../../../infra/contracts.ts'
import { type Permission, reissuePermissions } from '../../../infra/iam.ts'
import {
  SYNTH_ACCOUNT as ACCOUNT,
  SYNTH_REGION as REGION,
  type Synthesis,
  synthSkip as skip,
  synthesize,
} from '../../helpers/sst-synth.ts'

const AWS = { partition: 'aws', dnsSuffix: 'amazonaws.com', region: REGION, account: ACCOUNT }
const URL_OF = (name: string) => `https://${name.toLowerCase()}.lambda-url.${REGION}.on.aws/`
const OPS_ROLE = `arn:aws:iam::${ACCOUNT}:role/ops-admin`
const CI_USER = `arn:aws:iam::${ACCOUNT}:user/ci`
const BUS_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/credbroker-dev-auth-events`

describe('sst.config.ts with the reissue function, under Pulumi mocks', { skip }, () => {
  let synth: Synthesis
  let outputs: Record<string, unknown>
  const saved = process.env.CREDBROKER_DEPLOY_REISSUE_PRINCIPALS

  before(async () => {
    process.env.CREDBROKER_DEPLOY_REISSUE_PRINCIPALS = `${OPS_ROLE},${CI_USER}`
    synth = await synthesize({
      functionUrl: URL_OF,
      arnOf: (type, name, inputs) =>
        type === 'aws:cloudwatch/eventBus:EventBus'
          ? BUS_ARN
          : type === 'aws:cloudwatch/eventRule:EventRule'
            ? `arn:aws:events:${REGION}:${ACCOUNT}:rule/credbroker-dev-auth-events/${inputs.name}`
            : `arn:aws:kms:${REGION}:${ACCOUNT}:key/${name}`,
    })
    outputs = synth.outputs
  })
  after(() => {
    if (saved === undefined) delete process.env.CREDBROKER_DEPLOY_REISSUE_PRINCIPALS
    else process.env.CREDBROKER_DEPLOY_REISSUE_PRINCIPALS = saved
  })

  const fn = (name: string) => {
    const found = synth.components.Function.find((f) => f.name === name)
    assert.ok(found, `no ${name} function`)
    return found.args
  }
  const ofType = (type: string) => synth.resources.filter((r) => r.type === type)

  it('ok/an IAM Function URL, one run at a time, the bot config and the reissue environment', async () => {
    const args = fn('Reissue')
    assert.equal(args.handler, 'functions/reissue/handler.handler')
    assert.deepEqual(args.url, { authorization: 'iam', cors: false })
    assert.deepEqual(args.concurrency, { reserved: 1 })
    assert.deepEqual(args.copyFiles, [{ from: 'examples/deploy/bot.yaml', to: 'bot.yaml' }])
    assert.deepEqual(await synth.value(args.environment), {
      CREDBROKER_BOT_CONFIG_FILE: 'bot.yaml',
      CREDBROKER_AUTH_SERVER: URL_OF('Auth').replace(/\/$/, ''),
      CREDBROKER_BOT_NAME: 'example',
      CREDBROKER_LOG_LEVEL: 'info',
      CREDBROKER_REISSUE_ALLOWED_ARNS: `arn:aws:sts::${ACCOUNT}:assumed-role/ops-admin/*,${CI_USER}`,
      CREDBROKER_REISSUE_REPLIES_SECRET: 'credbroker/dev/example/.reissue-replies',
      CREDBROKER_REISSUE_EVENT_BUS: 'credbroker-dev-auth-events',
    })
    const invokeConfig: Record<string, unknown> = {}
    args.transform.eventInvokeConfig(invokeConfig, {}, 'x')
    assert.equal(invokeConfig.maximumEventAgeInSeconds, 3600)
  })

  it('ok/the URL’s resource policy grants exactly the configured principals', () => {
    const urlGrants = ofType('aws:lambda/permission:Permission').filter(
      (p) => p.args.action === 'lambda:InvokeFunctionUrl',
    )
    assert.deepEqual(
      urlGrants.map((p) => [p.args.principal, p.args.functionUrlAuthType, p.args.function]),
      [
        [OPS_ROLE, 'AWS_IAM', 'credbroker-dev-reissue'],
        [CI_USER, 'AWS_IAM', 'credbroker-dev-reissue'],
      ],
    )
  })

  it('ok/the rotate function’s permissions with its own logs, a fixed role name, no managed policy', async () => {
    const args = fn('Reissue')
    const permissions = await synth.value<Permission[]>(args.permissions)
    assert.deepEqual(
      permissions,
      reissuePermissions({
        aws: AWS,
        functionName: 'credbroker-dev-reissue',
        secretPrefix: 'credbroker/dev/example/',
        secretRegions: [],
        secretKmsKeyArns: [],
      }),
    )
    for (const r of permissions.flatMap((p) => p.resources)) {
      assert.ok(r !== '*' && !/^arn:[^:]*:[^:]*:\*/.test(r), `${r} is a wildcard resource`)
    }
    const roleArgs: Record<string, unknown> = { managedPolicyArns: ['x'] }
    args.transform.role(roleArgs, {}, 'ReissueRole')
    assert.equal(await synth.value(roleArgs.name), 'credbroker-dev-reissue-eu-west-1')
    assert.deepEqual(roleArgs.managedPolicyArns, [])
  })

  it('ok/the auth function publishes on the bus, and may put events there only', async () => {
    const [bus] = ofType('aws:cloudwatch/eventBus:EventBus')
    assert.equal(bus?.args.name, 'credbroker-dev-auth-events')
    const args = fn('Auth')
    const env = await synth.value<Record<string, string>>(args.environment)
    assert.equal(env.CREDBROKER_EVENT_BUS, 'credbroker-dev-auth-events')
    const permissions = await synth.value<Permission[]>(args.permissions)
    assert.deepEqual(
      permissions.filter((p) => p.actions.some((a) => a.startsWith('events:'))),
      [{ actions: ['events:PutEvents'], resources: [BUS_ARN] }],
    )
  })

  it('ok/the rule matches the published audit events and alone may invoke the function', async () => {
    const [rule] = ofType('aws:cloudwatch/eventRule:EventRule')
    assert.equal(rule?.args.eventBusName, 'credbroker-dev-auth-events')
    assert.deepEqual(JSON.parse(rule?.args.eventPattern), REISSUE_TRIGGER_PATTERN)
    const [target] = ofType('aws:cloudwatch/eventTarget:EventTarget')
    assert.equal(target?.args.arn, `arn:aws:lambda:${REGION}:${ACCOUNT}:function:credbroker-dev-reissue`)
    assert.equal(target?.args.eventBusName, 'credbroker-dev-auth-events')
    const invoke = ofType('aws:lambda/permission:Permission').filter(
      (p) => p.args.action === 'lambda:InvokeFunction',
    )
    assert.deepEqual(
      invoke.map((p) => [p.args.principal, p.args.sourceArn, p.args.function]),
      [
        [
          'events.amazonaws.com',
          `arn:aws:events:${REGION}:${ACCOUNT}:rule/credbroker-dev-auth-events/credbroker-dev-reissue-trigger`,
          'credbroker-dev-reissue',
        ],
      ],
    )
  })

  it('ok/the outputs add the reissue URL, function, caller ARN and bus', () => {
    assert.equal(outputs.reissueUrl, URL_OF('Reissue'))
    assert.equal(outputs.reissueFunction, 'credbroker-dev-reissue')
    assert.equal(
      outputs.reissueCallerArn,
      `arn:aws:sts::${ACCOUNT}:assumed-role/credbroker-dev-reissue-eu-west-1/credbroker-dev-reissue`,
    )
    assert.equal(outputs.authEventBus, 'credbroker-dev-auth-events')
  })
})
