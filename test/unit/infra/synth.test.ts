/**
 * `sst.config.ts` and `infra/` run offline under Pulumi's mocks: the real `@pulumi/pulumi` and
 * `@pulumi/aws` from `.sst/platform` (unpacked by `scripts/sst-types.sh`, which `npm run typecheck`
 * runs), with the three SST components replaced by recorders (the real ones bundle handlers
 * through the SST CLI). Checks the wiring that the pure-module tests cannot see: what each
 * component is given once every Output has resolved.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { CA_KEY_LABELS } from '../../../infra/contracts.ts'
import { authPermissions, rotatePermissions } from '../../../infra/iam.ts'

const PLATFORM = join(process.cwd(), '.sst/platform')
const skip = existsSync(join(PLATFORM, 'node_modules/@pulumi/aws/package.json'))
  ? false
  : 'needs .sst/platform: run `npm run typecheck` (or scripts/sst-types.sh) first'

const ACCOUNT = '123456789012'
const REGION = 'eu-west-1'
const AWS = { partition: 'aws', dnsSuffix: 'amazonaws.com', region: REGION, account: ACCOUNT }
const AUTH_URL = 'https://abc123.lambda-url.eu-west-1.on.aws/'
const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/credbroker-dev-StateTable`

// biome-ignore lint/suspicious/noExplicitAny: Pulumi's untyped CommonJS modules, loaded by path.
type Any = any

interface Recorded {
  name: string
  args: Record<string, Any>
  instance?: object
}

/** Resolves a Pulumi Output (or a plain value) to its value. */
function value<T>(pulumi: Any, input: unknown): Promise<T> {
  return new Promise((resolve) => pulumi.output(input).apply((v: T) => resolve(v)))
}

describe('sst.config.ts under Pulumi mocks', { skip }, () => {
  const created: Record<string, Recorded[]> = { Dynamo: [], Function: [], CronV2: [], kms: [] }
  let pulumi: Any
  let outputs: Record<string, unknown>

  before(async () => {
    const require = createRequire(join(PLATFORM, 'package.json'))
    pulumi = require('@pulumi/pulumi')
    await pulumi.runtime.setMocks(
      {
        call: ({ token }: { token: string }) => {
          if (token === 'aws:index/getPartition:getPartition')
            return { partition: 'aws', dnsSuffix: 'amazonaws.com' }
          if (token === 'aws:index/getRegion:getRegion') return { region: REGION, name: REGION }
          if (token === 'aws:index/getCallerIdentity:getCallerIdentity') return { accountId: ACCOUNT }
          throw new Error(`unexpected call ${token}`)
        },
        newResource: ({
          type,
          name,
          inputs,
        }: {
          type: string
          name: string
          inputs: Record<string, Any>
        }) => {
          if (type === 'aws:kms/key:Key') created.kms?.push({ name, args: inputs })
          return {
            id: `${name}-id`,
            state: { ...inputs, arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${name}` },
          }
        },
      },
      'credbroker',
      'dev',
      false,
    )
    const record = (kind: string, extra: (name: string, args: Any) => Record<string, unknown>) =>
      class {
        constructor(name: string, args: Record<string, Any>) {
          created[kind]?.push({ name, args, instance: this })
          Object.assign(this, extra(name, args))
        }
      }
    Object.assign(globalThis, {
      aws: require('@pulumi/aws'),
      $config: (config: unknown) => config,
      $resolve: (v: unknown) => pulumi.output(v),
      $jsonStringify: pulumi.jsonStringify,
      $app: { name: 'credbroker', stage: 'dev' },
      $cli: { paths: { root: process.cwd() } },
      sst: {
        aws: {
          Dynamo: record('Dynamo', () => ({
            name: pulumi.output('credbroker-dev-StateTable'),
            arn: pulumi.output(TABLE_ARN),
          })),
          Function: record('Function', (_, args) => ({
            name: pulumi.output(args.name),
            url: pulumi.output(AUTH_URL),
          })),
          CronV2: record('CronV2', () => ({})),
        },
      },
    })
    // Not a literal, so the main typecheck (which has no SST globals) does not follow it.
    const configPath = join(process.cwd(), 'sst.config.ts')
    const app = (await import(configPath)).default as { run(): Promise<Record<string, unknown>> }
    outputs = await value(pulumi, await app.run())
  })

  const fnRecord = (name: string) => {
    const found = created.Function?.find((f) => f.name === name)
    assert.ok(found, `no ${name} function`)
    return found
  }
  const fn = (name: string) => fnRecord(name).args

  it('ok/the auth function gets the environment contract, its keys and exactly its permissions', async () => {
    const args = fn('Auth')
    const env = await value<Record<string, string>>(pulumi, args.environment)
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
      await value(pulumi, args.permissions),
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
      assert.equal(await value(pulumi, roleArgs.name), expected)
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
    assert.deepEqual(await value(pulumi, args.environment), {
      CREDBROKER_BOT_CONFIG_FILE: 'bot.yaml',
      CREDBROKER_AUTH_SERVER: AUTH_URL.replace(/\/$/, ''),
      CREDBROKER_BOT_NAME: 'example',
      CREDBROKER_LOG_LEVEL: 'info',
    })
    assert.deepEqual(args.copyFiles, [{ from: 'examples/deploy/bot.yaml', to: 'bot.yaml' }])
    assert.deepEqual(args.concurrency, { reserved: 1 })
    assert.deepEqual(
      await value(pulumi, args.permissions),
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
