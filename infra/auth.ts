/**
 * The auth service: `functions/auth/handler.ts` behind a public Function URL. The URL has no IAM
 * auth on purpose: the API authenticates every call itself (join proofs, proof of possession of
 * the certificate key), and bots outside AWS must reach it too. CORS is off: no browser calls it.
 *
 * IAM ({@link authPermissions}): the store's DynamoDB actions on the state table, `kms:Sign` and
 * `kms:GetPublicKey` on the CA keys, writing its own log group. Nothing on Secrets Manager: the
 * auth service never reads a bot's outputs.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { InvalidConfigError, isBrokerError } from '../lib/errors.ts'
import { parseResources } from '../lib/resources/parse.ts'
import { awsContext } from './aws-context.ts'
import { type InfraConfig, roleName } from './config.ts'
import { authPermissions } from './iam.ts'
import type { CaKeys } from './keys.ts'
import { LAMBDA_DEFAULTS } from './lambda.ts'

/** Where the bootstrap file lands in the function's package (its working directory). */
const BOOTSTRAP_IN_PACKAGE = 'bootstrap.yaml'

export function createAuthFunction(
  config: InfraConfig,
  deps: {
    table: sst.aws.Dynamo
    keys: CaKeys
    root: string
    /** The bus for reissue-triggering audit events (`infra/reissue.ts`), when deployed. */
    events?: aws.cloudwatch.EventBus | undefined
  },
) {
  const { table, keys } = deps
  const name = config.names.authFunction
  if (config.bootstrapFile !== undefined) checkBootstrap(deps.root, config.bootstrapFile)
  const keyArns = keyArnsByLabel(keys)
  return new sst.aws.Function('Auth', {
    ...LAMBDA_DEFAULTS,
    name,
    description: `credbroker ${config.stage}: auth service and certificate authority`,
    handler: 'functions/auth/handler.handler',
    memory: '1024 MB',
    timeout: '30 seconds',
    url: { authorization: 'none', cors: false },
    environment: {
      CREDBROKER_STORE: 'dynamodb',
      CREDBROKER_DYNAMODB_TABLE: table.name,
      CREDBROKER_CLUSTER_NAME: config.clusterName,
      CREDBROKER_KEY_STORE: 'kms',
      CREDBROKER_KMS_KEYS: $jsonStringify(keyArns),
      CREDBROKER_LOG_LEVEL: config.logLevel,
      ...(config.bootstrapFile !== undefined && { CREDBROKER_BOOTSTRAP_FILE: BOOTSTRAP_IN_PACKAGE }),
      ...(config.adminIam !== undefined && { CREDBROKER_ADMIN_IAM: config.adminIam }),
      ...(deps.events && { CREDBROKER_EVENT_BUS: deps.events.name }),
    },
    copyFiles:
      config.bootstrapFile === undefined ? [] : [{ from: config.bootstrapFile, to: BOOTSTRAP_IN_PACKAGE }],
    permissions: $resolve({
      aws: awsContext(),
      tableArn: table.arn,
      keyArns,
      busArn: deps.events?.arn ?? '',
    }).apply(({ aws, tableArn, keyArns, busArn }) =>
      authPermissions({
        aws,
        functionName: name,
        tableArn,
        caKeyArns: Object.values(keyArns),
        ...(busArn !== '' && { eventBusArn: busArn }),
      }),
    ),
    transform: {
      role: (args) => {
        // A fixed name: the CA keys' policy matches the signer by role ARN.
        args.name = awsContext().apply((aws) => roleName(name, aws.region))
        // Instead of AWSLambdaBasicExecutionRole (logs:* on every log group): the log
        // statement in `permissions` covers this function's own group only.
        args.managedPolicyArns = []
      },
    },
  })
}

/** Label → key ARN, the shape of `CREDBROKER_KMS_KEYS`. */
function keyArnsByLabel(keys: CaKeys): Record<string, $util.Output<string>> {
  return Object.fromEntries(Object.entries(keys).map(([label, key]) => [label, key.arn]))
}

/** The bootstrap resources parse as the auth function will parse them, or the deploy stops. */
function checkBootstrap(root: string, file: string): void {
  try {
    parseResources(readFileSync(resolve(root, file), 'utf8'))
  } catch (err) {
    if (isBrokerError(err)) throw new InvalidConfigError(`CREDBROKER_DEPLOY_BOOTSTRAP (${file})`, err.message)
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InvalidConfigError('CREDBROKER_DEPLOY_BOOTSTRAP', `${file} does not exist`)
    }
    throw err
  }
}
