/**
 * What each function may do (`infra/iam.ts`): exactly the actions the adapters in `lib/` call, on
 * the deployment's own resources, never on `*`.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  type AwsContext,
  authPermissions,
  CA_KEY_ADMIN_ACTIONS,
  caKeyPolicy,
  type Permission,
  rotatePermissions,
  SECRETS_KMS_ACTIONS,
} from '../../../infra/iam.ts'
import { DYNAMODB_STORE_IAM_ACTIONS } from '../../../lib/adapters/dynamodb/table.ts'
import { KMS_KEY_STORE_IAM_ACTIONS } from '../../../lib/adapters/kms/options.ts'
import { SECRETS_MANAGER_DESTINATION_IAM_ACTIONS } from '../../../lib/adapters/secrets-manager/options.ts'

const AWS: AwsContext = {
  partition: 'aws',
  dnsSuffix: 'amazonaws.com',
  region: 'eu-west-1',
  account: '123456789012',
}
const TABLE = 'arn:aws:dynamodb:eu-west-1:123456789012:table/credbroker-dev-StateTable-abc'
const KEYS = ['arn:aws:kms:eu-west-1:123456789012:key/1111', 'arn:aws:kms:eu-west-1:123456789012:key/2222']
const SECRET_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/3333'
const LOGS = (fn: string) => `arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/${fn}:*`

const auth = () =>
  authPermissions({ aws: AWS, functionName: 'credbroker-dev-auth', tableArn: TABLE, caKeyArns: KEYS })
const rotate = (extra: { secretRegions?: string[]; secretKmsKeyArns?: string[] } = {}) =>
  rotatePermissions({
    aws: AWS,
    functionName: 'credbroker-dev-rotate',
    secretPrefix: 'credbroker/dev/example/',
    secretRegions: extra.secretRegions ?? [],
    secretKmsKeyArns: extra.secretKmsKeyArns ?? [],
  })

function assertNoWildcardResource(permissions: Permission[]) {
  for (const p of permissions) {
    for (const r of p.resources) assert.ok(r !== '*' && !/^arn:[^:]*:[^:]*:\*/.test(r), `${r} is a wildcard`)
    for (const a of p.actions) assert.ok(!a.endsWith('*'), `${a} is a wildcard action`)
  }
}

describe('authPermissions', () => {
  it('ok/the store actions on the table, the key store actions on the CA keys, its own logs', () => {
    assert.deepEqual(auth(), [
      { actions: [...DYNAMODB_STORE_IAM_ACTIONS], resources: [TABLE] },
      { actions: [...KMS_KEY_STORE_IAM_ACTIONS], resources: KEYS },
      { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [LOGS('credbroker-dev-auth')] },
    ])
    assertNoWildcardResource(auth())
  })

  it('ok/nothing on Secrets Manager or STS: the auth service never reads outputs', () => {
    const actions = auth().flatMap((p) => p.actions)
    assert.deepEqual(
      actions.filter((a) => a.startsWith('secretsmanager:') || a.startsWith('sts:')),
      [],
    )
    assert.ok(!actions.includes('kms:CreateKey'), 'the deployed key store creates no keys')
  })

  it('fail/no CA keys is a programmer error', () => {
    assert.throws(
      () => authPermissions({ aws: AWS, functionName: 'f', tableArn: TABLE, caKeyArns: [] }),
      TypeError,
    )
  })
})

describe('rotatePermissions', () => {
  it('ok/the destination actions on the bot’s own prefix, its own logs, nothing else', () => {
    assert.deepEqual(rotate(), [
      {
        actions: [...SECRETS_MANAGER_DESTINATION_IAM_ACTIONS],
        resources: ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:credbroker/dev/example/*'],
      },
      { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [LOGS('credbroker-dev-rotate')] },
    ])
    assertNoWildcardResource(rotate())
  })

  it('ok/no STS action: a signed GetCallerIdentity needs no permission', () => {
    assert.deepEqual(
      rotate().flatMap((p) => p.actions.filter((a) => a.startsWith('sts:'))),
      [],
    )
  })

  it('ok/the prefix in each region the bot config names, once', () => {
    const [secrets] = rotate({ secretRegions: ['us-east-1', 'eu-west-1'] })
    assert.deepEqual(secrets?.resources, [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:credbroker/dev/example/*',
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:credbroker/dev/example/*',
    ])
  })

  it('ok/a customer-managed key is used through Secrets Manager only', () => {
    const kms = rotate({ secretKmsKeyArns: [SECRET_KEY], secretRegions: ['us-east-1'] }).find((p) =>
      p.actions.some((a) => a.startsWith('kms:')),
    )
    assert.deepEqual(kms, {
      actions: [...SECRETS_KMS_ACTIONS],
      resources: [SECRET_KEY],
      conditions: [
        {
          test: 'StringEquals',
          variable: 'kms:ViaService',
          values: ['secretsmanager.eu-west-1.amazonaws.com', 'secretsmanager.us-east-1.amazonaws.com'],
        },
      ],
    })
  })

  it('ok/no KMS statement without a customer-managed key', () => {
    assert.ok(!rotate().some((p) => p.actions.some((a) => a.startsWith('kms:'))))
  })
})

describe('caKeyPolicy', () => {
  const role = 'arn:aws:iam::123456789012:role/credbroker-dev-auth-eu-west-1'
  const policy = caKeyPolicy({ aws: AWS, signerRoleArn: role })

  it('ok/the account administers the key but cannot sign or hand out grants', () => {
    const [admin] = policy.Statement
    const actions: string[] = admin?.Action ?? []
    assert.deepEqual(admin?.Principal, { AWS: 'arn:aws:iam::123456789012:root' })
    for (const forbidden of [...KMS_KEY_STORE_IAM_ACTIONS, 'kms:CreateGrant', 'kms:Decrypt']) {
      assert.ok(!actions.includes(forbidden), `${forbidden} is not key administration`)
    }
    assert.ok(actions.includes('kms:PutKeyPolicy'), 'the key stays manageable (no lockout)')
    assert.deepEqual(actions, [...CA_KEY_ADMIN_ACTIONS])
  })

  it('ok/only the auth function’s role signs', () => {
    const signing = policy.Statement.filter((s) => s.Action.includes('kms:Sign'))
    assert.equal(signing.length, 1)
    assert.deepEqual(signing[0]?.Action, [...KMS_KEY_STORE_IAM_ACTIONS])
    assert.deepEqual(signing[0]?.Condition, { ArnEquals: { 'aws:PrincipalArn': role } })
  })
})
