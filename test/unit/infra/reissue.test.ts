/**
 * The reissue function's pure infrastructure pieces: who may call it (the deploy setting, the
 * run-time allow-list derived from it), its permissions (the rotate function's, never `*`), and
 * the events that trigger it (exactly what the auth service publishes).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadInfraConfig } from '../../../infra/config.ts'
import { REISSUE_TRIGGER_PATTERN } from '../../../infra/contracts.ts'
import {
  type AwsContext,
  authPermissions,
  type Permission,
  reissueCallerArns,
  reissuePermissions,
  rotatePermissions,
} from '../../../infra/iam.ts'
import { AUTH_EVENT_SOURCE } from '../../../lib/adapters/eventbridge/source.ts'
import { PUBLISHED_AUDIT_TYPES } from '../../../lib/auth/audit.ts'
import { compileArnGlob } from '../../../lib/rbac/glob.ts'
import { parseAllowedArns } from '../../../lib/serverless/reissue-config.ts'

const AWS: AwsContext = {
  partition: 'aws',
  dnsSuffix: 'amazonaws.com',
  region: 'eu-west-1',
  account: '123456789012',
}
const OPS_ROLE = 'arn:aws:iam::123456789012:role/teams/ops-admin'
const CI_USER = 'arn:aws:iam::123456789012:user/ci'
const config = (env: Record<string, string>) => loadInfraConfig({ app: 'credbroker', stage: 'dev', env })

function assertNoWildcard(permissions: Permission[]) {
  for (const p of permissions) {
    for (const r of p.resources) assert.ok(r !== '*' && !/^arn:[^:]*:[^:]*:\*/.test(r), `${r} is a wildcard`)
    for (const a of p.actions) assert.ok(!a.includes('*'), `${a} is a wildcard action`)
  }
}

describe('CREDBROKER_DEPLOY_REISSUE_PRINCIPALS', () => {
  it('ok/unset: no reissue function; the names are fixed either way', () => {
    const c = config({})
    assert.equal(c.reissue, undefined)
    assert.equal(c.names.reissueFunction, 'credbroker-dev-reissue')
    assert.equal(c.names.eventBus, 'credbroker-dev-auth-events')
  })

  it('ok/role and user ARNs, deduplicated', () => {
    const c = config({ CREDBROKER_DEPLOY_REISSUE_PRINCIPALS: ` ${OPS_ROLE}, ${CI_USER},${OPS_ROLE}` })
    assert.deepEqual(c.reissue, { principals: [OPS_ROLE, CI_USER] })
  })

  for (const bad of [
    '*',
    'arn:aws:iam::123456789012:role/*',
    'arn:aws:iam::123456789012:root',
    'arn:aws:sts::123456789012:assumed-role/ops/alice',
    'arn:aws:iam::*:role/ops',
    ' , ',
  ]) {
    it(`fail/${JSON.stringify(bad)} is refused, naming the variable`, () => {
      assert.throws(
        () => config({ CREDBROKER_DEPLOY_REISSUE_PRINCIPALS: bad }),
        (err: Error) => {
          assert.equal((err as { code?: string }).code, 'ERR_INVALID_CONFIG')
          assert.match(err.message, /CREDBROKER_DEPLOY_REISSUE_PRINCIPALS/)
          return true
        },
      )
    })
  }
})

describe('reissueCallerArns: the run-time allow-list from the URL’s principals', () => {
  const arns = reissueCallerArns([OPS_ROLE, CI_USER])

  it('ok/a role becomes its sessions (path dropped, as STS does); a user stays itself', () => {
    assert.deepEqual(arns, ['arn:aws:sts::123456789012:assumed-role/ops-admin/*', CI_USER])
  })

  it('ok/the function accepts exactly those callers', () => {
    const allowed = parseAllowedArns(arns.join(',')).map(compileArnGlob)
    const accepts = (arn: string) => allowed.some((m) => m(arn))
    assert.ok(accepts('arn:aws:sts::123456789012:assumed-role/ops-admin/alice'))
    assert.ok(accepts(CI_USER))
    assert.ok(!accepts('arn:aws:sts::123456789012:assumed-role/ops-admin-2/alice'))
    assert.ok(!accepts('arn:aws:sts::999999999999:assumed-role/ops-admin/alice'))
    assert.ok(!accepts('arn:aws:iam::123456789012:user/ci2'))
  })

  it('fail/anything else is a programmer error', () => {
    assert.throws(() => reissueCallerArns(['arn:aws:iam::123456789012:group/ops']), TypeError)
  })
})

describe('reissuePermissions', () => {
  const input = {
    aws: AWS,
    functionName: 'credbroker-dev-reissue',
    secretPrefix: 'credbroker/dev/example/',
    secretRegions: ['us-east-1'],
    secretKmsKeyArns: ['arn:aws:kms:eu-west-1:123456789012:key/3333'],
  }

  it('ok/the rotate function’s statements, with its own log group, and no * anywhere', () => {
    const permissions = reissuePermissions(input)
    assert.deepEqual(permissions.slice(0, -1), rotatePermissions(input).slice(0, -1))
    assert.deepEqual(permissions.at(-1), {
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: ['arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/credbroker-dev-reissue:*'],
    })
    assertNoWildcard(permissions)
  })

  it('ok/the auth function may put events on its bus only', () => {
    const bus = 'arn:aws:events:eu-west-1:123456789012:event-bus/credbroker-dev-auth-events'
    const permissions = authPermissions({
      aws: AWS,
      functionName: 'credbroker-dev-auth',
      tableArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/t',
      caKeyArns: ['arn:aws:kms:eu-west-1:123456789012:key/1111'],
      eventBusArn: bus,
    })
    assert.deepEqual(
      permissions.filter((p) => p.actions.some((a) => a.startsWith('events:'))),
      [{ actions: ['events:PutEvents'], resources: [bus] }],
    )
    assertNoWildcard(permissions)
  })
})

describe('REISSUE_TRIGGER_PATTERN', () => {
  it('ok/the auth service’s source and exactly the audit types it publishes', () => {
    assert.deepEqual(REISSUE_TRIGGER_PATTERN, {
      source: [AUTH_EVENT_SOURCE],
      'detail-type': [...PUBLISHED_AUDIT_TYPES],
    })
    assert.deepEqual([...PUBLISHED_AUDIT_TYPES].sort(), [
      'ca.rotation',
      'lock.deleted',
      'role.created',
      'role.deleted',
      'role.updated',
    ])
  })
})
