/**
 * Every IAM statement the deployment grants, as plain data built from resolved ARNs. Pure (no
 * SST globals), so unit tests can assert on exactly what each function gets.
 *
 * The action lists come from `lib/`, where the adapters that call them are: granting and calling
 * cannot drift apart. No identity statement has a `*` resource. (Key policies are different: in a
 * KMS key policy, `"Resource": "*"` means "this key".)
 */
import { DYNAMODB_STORE_IAM_ACTIONS } from '../lib/adapters/dynamodb/table.ts'
import { EVENTBRIDGE_SINK_IAM_ACTIONS } from '../lib/adapters/eventbridge/client.ts'
import { KMS_KEY_STORE_IAM_ACTIONS } from '../lib/adapters/kms/options.ts'
import { SECRETS_MANAGER_DESTINATION_IAM_ACTIONS } from '../lib/adapters/secrets-manager/options.ts'

/** The shape of `sst.aws.Function`'s `permissions` entries. */
export interface Permission {
  actions: string[]
  resources: string[]
  conditions?: { test: string; variable: string; values: string[] }[]
}

/** Where the stack is deployed, from `aws.getPartition`/`getRegion`/`getCallerIdentity`. */
export interface AwsContext {
  readonly partition: string
  /** `amazonaws.com`, or the partition's own suffix. */
  readonly dnsSuffix: string
  readonly region: string
  readonly account: string
}

/** What Secrets Manager needs on a customer-managed key, on the caller's behalf. */
export const SECRETS_KMS_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'] as const

/**
 * Managing a CA key without using it: none of {@link KMS_KEY_STORE_IAM_ACTIONS}, and no
 * `kms:CreateGrant`, which would let an administrator hand signing to someone else.
 */
export const CA_KEY_ADMIN_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:PutKeyPolicy',
  'kms:ListKeyPolicies',
  'kms:GetKeyRotationStatus',
  'kms:ListResourceTags',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateKeyDescription',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:ListGrants',
  'kms:RevokeGrant',
  'kms:CreateAlias',
  'kms:UpdateAlias',
  'kms:DeleteAlias',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
] as const

/** Writing to the function's own log group (instead of AWSLambdaBasicExecutionRole's `*`). */
export const LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const

/**
 * The auth function: the store's actions on its table, the key store's (`kms:Sign`,
 * `kms:GetPublicKey`; it creates no keys) on the CA keys, its log group.
 * Nothing on Secrets Manager: the auth service never reads a bot's outputs.
 */
export function authPermissions(input: {
  aws: AwsContext
  functionName: string
  tableArn: string
  caKeyArns: readonly string[]
  /** The bus it publishes reissue-triggering audit events on (`events:PutEvents` there only). */
  eventBusArn?: string | undefined
}): Permission[] {
  if (input.caKeyArns.length === 0) throw new TypeError('the auth function needs its CA keys')
  return [
    { actions: [...DYNAMODB_STORE_IAM_ACTIONS], resources: [input.tableArn] },
    { actions: [...KMS_KEY_STORE_IAM_ACTIONS], resources: [...input.caKeyArns] },
    ...(input.eventBusArn === undefined
      ? []
      : [{ actions: [...EVENTBRIDGE_SINK_IAM_ACTIONS], resources: [input.eventBusArn] }]),
    logPermission(input.aws, input.functionName),
  ]
}

/**
 * The rotate function: the destination's actions on the secrets under the bot's prefix, in each
 * region it writes to; the secrets' customer-managed KMS keys, used through Secrets Manager only;
 * its log group. Joining needs nothing: a signed `sts:GetCallerIdentity` is always allowed.
 */
export function rotatePermissions(input: {
  aws: AwsContext
  functionName: string
  secretPrefix: string
  /** Regions the bot config names besides the function's own. */
  secretRegions: readonly string[]
  secretKmsKeyArns: readonly string[]
}): Permission[] {
  const { aws } = input
  const regions = [...new Set([aws.region, ...input.secretRegions])]
  const permissions: Permission[] = [
    {
      actions: [...SECRETS_MANAGER_DESTINATION_IAM_ACTIONS],
      resources: regions.map((r) => secretArnPattern(aws, r, input.secretPrefix)),
    },
  ]
  if (input.secretKmsKeyArns.length > 0) {
    permissions.push({
      actions: [...SECRETS_KMS_ACTIONS],
      resources: [...input.secretKmsKeyArns],
      conditions: [
        {
          test: 'StringEquals',
          variable: 'kms:ViaService',
          values: regions.map((r) => `secretsmanager.${r}.${aws.dnsSuffix}`),
        },
      ],
    })
  }
  permissions.push(logPermission(aws, input.functionName))
  return permissions
}

/**
 * The reissue function: exactly the rotate function's permissions (it runs the same bot over the
 * same outputs, and keeps its replies secret under the same prefix), with its own log group.
 */
export const reissuePermissions: typeof rotatePermissions = (input) => rotatePermissions(input)

/**
 * `CREDBROKER_REISSUE_ALLOWED_ARNS` from the Function URL's principals: the ARN a caller has at
 * run time. An IAM role's callers are its sessions (`arn:…:sts::<account>:assumed-role/<name>/*`,
 * the role's path dropped, as STS does); a user is itself.
 * @throws TypeError for anything but an IAM role or user ARN (the config checks it first).
 */
export function reissueCallerArns(principals: readonly string[]): string[] {
  return principals.map((arn) => {
    const match = /^arn:([\w-]+):iam::(\d{12}):(role|user)\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/.exec(arn)
    if (!match) throw new TypeError(`not an IAM role or user ARN: ${arn}`)
    const [, partition, account, kind, name] = match
    return kind === 'role' ? `arn:${partition}:sts::${account}:assumed-role/${name}/*` : arn
  })
}

/** Every secret whose name starts with `prefix` (Secrets Manager appends `-XXXXXX` to the ARN). */
export function secretArnPattern(aws: AwsContext, region: string, prefix: string): string {
  if (!prefix.endsWith('/')) throw new TypeError(`a secret prefix ends with "/", got ${prefix}`)
  return `arn:${aws.partition}:secretsmanager:${region}:${aws.account}:secret:${prefix}*`
}

/**
 * A CA key's policy: the account administers the key (through IAM), and only the auth
 * function's role may use it. The signer is matched by ARN (`aws:PrincipalArn`) with the account
 * as principal rather than named as principal: that needs no role to exist before the key, and
 * survives the role being replaced (KMS pins a named role to its unique id). The role still needs
 * its own IAM grant ({@link authPermissions}).
 */
export function caKeyPolicy(input: { aws: AwsContext; signerRoleArn: string }): KeyPolicy {
  const root = `arn:${input.aws.partition}:iam::${input.aws.account}:root`
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'KeyAdministration',
        Effect: 'Allow',
        Principal: { AWS: root },
        Action: [...CA_KEY_ADMIN_ACTIONS],
        Resource: '*',
      },
      {
        Sid: 'SigningByTheAuthFunctionOnly',
        Effect: 'Allow',
        Principal: { AWS: root },
        Action: [...KMS_KEY_STORE_IAM_ACTIONS],
        Resource: '*',
        Condition: { ArnEquals: { 'aws:PrincipalArn': input.signerRoleArn } },
      },
    ],
  }
}

export interface KeyPolicy {
  Version: '2012-10-17'
  Statement: {
    Sid: string
    Effect: 'Allow'
    Principal: { AWS: string }
    Action: string[]
    Resource: '*'
    Condition?: Record<string, Record<string, string>>
  }[]
}

/** `arn:…:iam::<account>:role/<name>`. */
export function roleArn(aws: AwsContext, name: string): string {
  return `arn:${aws.partition}:iam::${aws.account}:role/${name}`
}

function logPermission(aws: AwsContext, functionName: string): Permission {
  const group = `arn:${aws.partition}:logs:${aws.region}:${aws.account}:log-group:/aws/lambda/${functionName}`
  return { actions: [...LOG_ACTIONS], resources: [`${group}:*`] }
}
