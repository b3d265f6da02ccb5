import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  awsRoleArns,
  canSeeApp,
  canUseDatabase,
  type DatabaseLogin,
  databaseNames,
  databaseUsers,
  kubernetesGroups,
  kubernetesUsers,
  logins,
} from '../../../lib/rbac/grants.ts'
import type { Database, Role } from '../../../lib/resources/types.ts'
import { app, DB_LIST_RULE, database, kubeCluster, MACHINE_ID_DB, role } from './fixtures.ts'

describe('logins', () => {
  const access = role('access', { allow: { logins: ['alice'] } })
  const cases: Array<[string, Role[], string[]]> = [
    ['ok/guide: the access role grants alice only, so ssh as bob fails', [access], ['alice']],
    [
      'ok/union, deduplicated and sorted',
      [role('a', { allow: { logins: ['root', 'alice'] } }), access],
      ['alice', 'root'],
    ],
    [
      'ok/deny removes a login from another role',
      [role('a', { allow: { logins: ['root', 'alice'] } }), role('d', { deny: { logins: ['root'] } })],
      ['alice'],
    ],
    [
      'ok/deny glob',
      [role('a', { allow: { logins: ['ec2-user', 'ubuntu'] } }), role('d', { deny: { logins: ['ec2-*'] } })],
      ['ubuntu'],
    ],
    ['fail/deny star removes all', [access, role('d', { deny: { logins: ['*'] } })], []],
    ['fail/no roles', [], []],
  ]
  for (const [name, roles, expected] of cases) {
    it(name, () => assert.deepEqual(logins(roles), expected))
  }

  it('fail/guide ssh case: bob is not a principal', () => {
    assert.equal(logins([access]).includes('bob'), false)
  })
})

describe('databaseNames and databaseUsers', () => {
  const dev = role('dev', { allow: { db_labels: { env: ['dev'] }, db_users: ['alice'], db_names: ['app'] } })
  const prod = role('prod', {
    allow: { db_labels: { env: ['prod'] }, db_users: ['reader'], db_names: ['*'] },
  })
  const noReader = role('no-reader', { deny: { db_users: ['reader'] } })
  const devDb = database('d', { env: 'dev' })

  it('ok/union over all roles without a database', () => {
    assert.deepEqual(databaseUsers([dev, prod]), ['alice', 'reader'])
    assert.deepEqual(databaseNames([dev, prod]), ['*', 'app'])
  })
  it('ok/scoped to roles whose db_labels match the database', () => {
    assert.deepEqual(databaseUsers([dev, prod], devDb), ['alice'])
    assert.deepEqual(databaseNames([dev, prod], devDb), ['app'])
  })
  it('ok/deny removes a user, even from a role with no labels', () => {
    assert.deepEqual(databaseUsers([dev, prod, noReader]), ['alice'])
  })
  it('ok/an allowed star stays star when deny names a specific value', () => {
    assert.deepEqual(databaseNames([prod, role('d', { deny: { db_names: ['secret'] } })]), ['*'])
  })
  it('fail/deny star removes all', () => {
    assert.deepEqual(databaseNames([prod, role('d', { deny: { db_names: ['*'] } })]), [])
  })
  it('fail/a deny label match scopes to nothing', () => {
    assert.deepEqual(databaseUsers([dev, role('d', { deny: { db_labels: { env: ['dev'] } } })], devDb), [])
  })
})

describe('canUseDatabase', () => {
  const example = database('example', { env: 'dev' })
  const prodDb = database('orders', { env: 'prod' })
  const devAdmin = role('dev-admin', {
    allow: { db_labels: { env: ['dev'] }, db_users: ['admin'], db_names: ['*'], rules: [DB_LIST_RULE] },
  })
  const prodReader = role('prod-reader', {
    allow: {
      db_labels: { env: ['prod'] },
      db_users: ['reader'],
      db_names: ['orders'],
      rules: [DB_LIST_RULE],
    },
  })
  const cases: Array<[string, Role[], Database, DatabaseLogin, boolean, RegExp]> = [
    [
      'ok/guide role: alice on example',
      [MACHINE_ID_DB],
      example,
      { user: 'alice', name: 'example' },
      true,
      /"machine-id-db" allows user "alice" on database name "example"/,
    ],
    [
      'ok/name omitted checks the user only',
      [MACHINE_ID_DB],
      example,
      { user: 'alice' },
      true,
      /allows user "alice"$/,
    ],
    [
      'ok/star allows any name',
      [devAdmin],
      example,
      { user: 'admin', name: 'anything' },
      true,
      /"dev-admin"/,
    ],
    [
      'ok/glob user',
      [
        role('g', {
          allow: { db_labels: { '*': ['*'] }, db_users: ['svc-*'], db_names: ['*'], rules: [DB_LIST_RULE] },
        }),
      ],
      example,
      { user: 'svc-ci', name: 'x' },
      true,
      /"g"/,
    ],
    [
      'fail/guide role without rules: database invisible',
      [role('no-rules', { allow: { ...MACHINE_ID_DB.spec.allow, rules: [] } })],
      example,
      { user: 'alice', name: 'example' },
      false,
      /no role allows read or list/,
    ],
    [
      'fail/user not allowed',
      [MACHINE_ID_DB],
      example,
      { user: 'bob', name: 'example' },
      false,
      /no role matching db "example" allows user "bob"/,
    ],
    [
      'fail/name not allowed',
      [MACHINE_ID_DB],
      example,
      { user: 'alice', name: 'other' },
      false,
      /database name "other"/,
    ],
    [
      'fail/deny user wins over allow star',
      [devAdmin, role('no-admin', { deny: { db_users: ['admin'] } })],
      example,
      { user: 'admin', name: 'x' },
      false,
      /"no-admin" denies database user "admin"/,
    ],
    [
      'fail/deny name wins',
      [devAdmin, role('no-pg', { deny: { db_names: ['postgres'] } })],
      example,
      { user: 'admin', name: 'postgres' },
      false,
      /"no-pg" denies database name "postgres"/,
    ],
    [
      'fail/grants do not combine across roles',
      [devAdmin, prodReader],
      prodDb,
      { user: 'admin', name: 'orders' },
      false,
      /no role matching db "orders" allows user "admin"/,
    ],
    [
      'ok/the role matching the database grants its own user',
      [devAdmin, prodReader],
      prodDb,
      { user: 'reader', name: 'orders' },
      true,
      /"prod-reader"/,
    ],
    [
      'fail/deny label hides the database',
      [MACHINE_ID_DB, role('no-dev', { deny: { db_labels: { env: ['dev'] } } })],
      example,
      { user: 'alice', name: 'example' },
      false,
      /"no-dev" denies db "example"/,
    ],
    ['fail/empty user', [MACHINE_ID_DB], example, { user: '', name: 'example' }, false, /must not be empty/],
  ]
  for (const [name, roles, db, login, allowed, reason] of cases) {
    it(name, () => {
      const decision = canUseDatabase(roles, db, login)
      assert.equal(decision.allowed, allowed)
      assert.match(decision.reason, reason)
    })
  }
})

describe('kubernetesGroups and kubernetesUsers', () => {
  const dev = role('dev', {
    allow: {
      kubernetes_labels: { env: ['dev-*'] },
      kubernetes_groups: ['system:masters'],
      kubernetes_users: ['dev'],
    },
  })
  const prod = role('prod', {
    allow: { kubernetes_labels: { env: ['prod'] }, kubernetes_groups: ['viewers'], kubernetes_users: ['ci'] },
  })
  const cases: Array<[string, Role[], string | undefined, string[], string[]]> = [
    ['ok/no cluster: union', [dev, prod], undefined, ['system:masters', 'viewers'], ['ci', 'dev']],
    ['ok/cluster matching one role by glob', [dev, prod], 'dev-eu', ['system:masters'], ['dev']],
    ['ok/cluster matching the other role', [dev, prod], 'prod', ['viewers'], ['ci']],
    ['fail/cluster matching no role', [dev, prod], 'staging', [], []],
  ]
  for (const [name, roles, env, groups, users] of cases) {
    it(name, () => {
      const cluster = env === undefined ? undefined : kubeCluster('k8s', { env })
      assert.deepEqual(kubernetesGroups(roles, cluster), groups)
      assert.deepEqual(kubernetesUsers(roles, cluster), users)
    })
  }

  it('fail/deny group removes it; deny label match removes all', () => {
    const noMasters = role('no-masters', { deny: { kubernetes_groups: ['system:*'] } })
    assert.deepEqual(kubernetesGroups([dev, prod, noMasters]), ['viewers'])
    const noDev = role('no-dev', { deny: { kubernetes_labels: { env: ['dev-*'] } } })
    assert.deepEqual(kubernetesUsers([dev, noDev], kubeCluster('k8s', { env: 'dev-1' })), [])
  })
})

describe('awsRoleArns and canSeeApp', () => {
  const arn = 'arn:aws:iam::123456789012:role/readonly'
  const consoleRole = role('console', {
    allow: {
      app_labels: { app: ['aws-*'] },
      aws_role_arns: [arn],
      rules: [{ resources: ['app'], verbs: ['list'] }],
    },
  })

  it('ok/ARNs from roles matching the app', () => {
    assert.deepEqual(awsRoleArns([consoleRole]), [arn])
    assert.deepEqual(awsRoleArns([consoleRole], app('aws', { app: 'aws-console' })), [arn])
  })
  it('fail/no ARNs for an app the role does not match, or when denied', () => {
    assert.deepEqual(awsRoleArns([consoleRole], app('grafana', { app: 'grafana' })), [])
    assert.deepEqual(
      awsRoleArns([consoleRole, role('d', { deny: { aws_role_arns: ['*:role/readonly'] } })]),
      [],
    )
  })
  it('ok/canSeeApp for a matching app', () => {
    assert.equal(canSeeApp([consoleRole], app('aws', { app: 'aws-console' })).allowed, true)
  })
  it('fail/canSeeApp for an app outside the labels', () => {
    assert.match(canSeeApp([consoleRole], app('grafana', { app: 'grafana' })).reason, /allow.app_labels/)
  })
})
