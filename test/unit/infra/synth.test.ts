/**
 * `sst.config.ts` and `infra/` run offline under Pulumi's mocks (`test/helpers/sst-synth.ts`).
 * Checks the wiring that the pure-module tests cannot see: what each component is given once
 * every Output has resolved.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { CA_KEY_LABELS } from '../../../infra/contracts.ts'
import { authPermissions, rotatePermissions } from '../../../infra/iam.ts'
import {
  SYNTH_ACCOUNT as ACCOUNT,
  SYNTH_REGION as REGION,
  type Recorded,
  type Synthesis,
  synthSkip as skip,
  synthesize,
} from '../../helpers/sst-synth.ts'

const AWS = { partition: 'aws', dnsSuffix: 'amazonaws.com', region: REGION, account: ACCOUNT }
const AUTH_URL = 'https://abc123.lambda-url.eu-west-1.on.aws/'
const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/credbroker-dev-StateTable`

describe('sst.config.ts under Pulumi mocks', { skip }, () => {
  let synth: Synthesis
  let created: Record<string, readonly Recorded[]>
  let outputs: Record<string, unknown>

  before(async () => {
    synth = await synthesize({ functionUrl: () => AUTH_URL })
    created = {
      ...synth.components,
      // A getter: Pulumi registers resources while Outputs resolve, after `synthesize` returns.
      get kms() {
        return synth.resources.filter((r) => r.type === 'aws:kms/key:Key')
      },
    }
    outputs = synth.outputs
  })

  const fnRecord = (name: string) => {
    const found = created.Function?.find((f) => f.name === name)
    assert.ok(found, `no ${name} function`)
    return found
  }
  const fn = (name: string) => fnRecord(name).args

  it('ok/the auth function gets the environment contract, its keys and exactly its permissions', async () => {
    const args = fn('Auth')
    const env = await synth.value<Record<string, string>>(args.environment)
    const kmsKeys = JSON.parse(env.CREDBROKER_KMS_KEYS ?? '{}')
    assert.deepEqual(Object.keys(kmsKeys).sort(), [...CA_KEY_LABELS].sort())
    assert.deepEqual(env, {
      CREDBROKER_STORE: 'dynamodb',
      CREDBROKER_DYNAMODB_TABLE: 'credbroker-dev-StateTable',
      CREDBROKER_CLUSTER_NAME: 'credbroker-dev',
      CREDBROKER_KEY_STORE: 'kms',
      CREDBROKER_KMS_KEYS: env.CREDBROKER_KMS_KEYS,
      CREDBROKER_LOG_LEVEL: 'info',
    })
    assert.deepEqual(
      await synth.value(args.permissions),
      authPermissions({
        aws: AWS,
        functionName: 'credbroker-dev-auth',
        tableArn: TABLE_ARN,
        caKeyArns: Object.values(kmsKeys) as string[],
      }),
    )
    assert.equal(args.handler, 'functions/auth/handler.handler')
    assert.deepEqual(args.url, { authorization: 'none', cors: false })
    assert.deepEqual(args.copyFiles, [])
  })

  it('ok/both roles get a fixed, regional name and no managed policy', async () => {
    for (const [component, expected] of [
      ['Auth', 'credbroker-dev-auth-eu-west-1'],
      ['Rotate', 'credbroker-dev-rotate-eu-west-1'],
    ] as const) {
      const roleArgs: Record<string, unknown> = {
        managedPolicyArns: ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
      }
      fn(component).transform.role(roleArgs, {}, `${component}Role`)
      assert.equal(await synth.value(roleArgs.name), expected)
      assert.deepEqual(roleArgs.managedPolicyArns, [])
    }
  })

  it('ok/the CA keys: six P-256 signing keys that only the auth role may use', async () => {
    assert.equal(created.kms?.length, CA_KEY_LABELS.length)
    for (const { args } of created.kms ?? []) {
      assert.equal(args.customerMasterKeySpec, 'ECC_NIST_P256')
      assert.equal(args.keyUsage, 'SIGN_VERIFY')
      assert.equal(args.deletionWindowInDays, 7)
      const policy = JSON.parse(args.policy)
      assert.deepEqual(policy.Statement[1].Condition, {
        ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/credbroker-dev-auth-eu-west-1` },
      })
    }
  })

  it('ok/the rotate function: its bot config, the auth URL, one run at a time, its own secrets', async () => {
    const args = fn('Rotate')
    assert.deepEqual(await synth.value(args.environment), {
      CREDBROKER_BOT_CONFIG_FILE: 'bot.yaml',
      CREDBROKER_AUTH_SERVER: AUTH_URL.replace(/\/$/, ''),
      CREDBROKER_BOT_NAME: 'example',
      CREDBROKER_LOG_LEVEL: 'info',
    })
    assert.deepEqual(args.copyFiles, [{ from: 'examples/deploy/bot.yaml', to: 'bot.yaml' }])
    assert.deepEqual(args.concurrency, { reserved: 1 })
    assert.deepEqual(
      await synth.value(args.permissions),
      rotatePermissions({
        aws: AWS,
        functionName: 'credbroker-dev-rotate',
        secretPrefix: 'credbroker/dev/example/',
        secretRegions: [],
        secretKmsKeyArns: [],
      }),
    )
    const invokeConfig: Record<string, unknown> = {}
    args.transform.eventInvokeConfig(invokeConfig, {}, 'x')
    assert.equal(invokeConfig.maximumEventAgeInSeconds, 1200)
  })

  it('ok/the schedule invokes the rotate function every 20 minutes, with retries', () => {
    const [cron] = created.CronV2 ?? []
    assert.equal(cron?.args.schedule, 'rate(20 minutes)')
    assert.equal(cron?.args.retries, 3)
    assert.equal(cron?.args.function, fnRecord('Rotate').instance)
  })

  it('ok/the outputs', () => {
    assert.deepEqual(outputs, {
      authUrl: AUTH_URL,
      tableName: 'credbroker-dev-StateTable',
      secretPrefix: 'credbroker/dev/example/',
      authFunction: 'credbroker-dev-auth',
      rotateFunction: 'credbroker-dev-rotate',
      botCallerArn: `arn:aws:sts::${ACCOUNT}:assumed-role/credbroker-dev-rotate-eu-west-1/credbroker-dev-rotate`,
    })
  })
})
