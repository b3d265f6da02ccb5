import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { resourceVisible, rolesMatching, ruleAllows } from '../../../lib/rbac/role-set.ts'
import type { RegisteredResource, Role } from '../../../lib/resources/types.ts'
import { app, DB_LIST_RULE, database, kubeCluster, MACHINE_ID_DB, node, role } from './fixtures.ts'

describe('ruleAllows', () => {
  const reader = role('reader', {
    allow: { rules: [{ resources: ['db', 'db_server'], verbs: ['read', 'list'] }] },
  })
  const admin = role('admin', { allow: { rules: [{ resources: ['*'], verbs: ['*'] }] } })
  const noDelete = role('no-delete', { deny: { rules: [{ resources: ['*'], verbs: ['delete'] }] } })
  const noDb = role('no-db', { deny: { rules: [{ resources: ['db'], verbs: ['*'] }] } })
  const cases: Array<[string, Role[], string, string, boolean, RegExp]> = [
    ['ok/exact kind and verb', [reader], 'db', 'list', true, /role "reader" allows list on db/],
    ['ok/wildcard kind and verb', [admin], 'cert_authority', 'update', true, /role "admin"/],
    ['ok/deny of another verb does not apply', [admin, noDelete], 'db', 'read', true, /role "admin"/],
    ['fail/no rules at all', [role('empty')], 'db', 'read', false, /no role allows read on db/],
    ['fail/verb not listed', [reader], 'db', 'delete', false, /no role allows delete on db/],
    ['fail/kind not listed', [reader], 'app', 'read', false, /no role allows read on app/],
    ['fail/verbs are literal', [reader], 'db', 'read_no_secrets', false, /no role allows/],
    [
      'fail/deny before allow (wildcard kind)',
      [admin, noDelete],
      'db',
      'delete',
      false,
      /"no-delete" denies/,
    ],
    [
      'fail/deny before allow (wildcard verb)',
      [reader, noDb],
      'db',
      'read',
      false,
      /"no-db" denies read on db/,
    ],
    ['fail/deny wins whatever the order', [noDb, admin], 'db', 'list', false, /"no-db" denies/],
    [
      'fail/deny in the same role',
      [role('self', { allow: admin.spec.allow, deny: noDb.spec.deny })],
      'db',
      'read',
      false,
      /"self" denies/,
    ],
  ]
  for (const [name, roles, kind, verb, allowed, reason] of cases) {
    it(name, () => {
      const decision = ruleAllows(roles, kind, verb)
      assert.equal(decision.allowed, allowed)
      assert.match(decision.reason, reason)
    })
  }
})

describe('resourceVisible', () => {
  const example = database('example', { env: 'dev' })
  const listDb = [DB_LIST_RULE]
  const cases: Array<[string, Role[], RegisteredResource, boolean, RegExp]> = [
    // The troubleshooting guide's `database "example" not found`, and its fix.
    [
      'fail/guide: db_labels but no rules',
      [role('db', { allow: { db_labels: { '*': ['*'] } } })],
      example,
      false,
      /no role allows read or list on db or db_server/,
    ],
    [
      'ok/guide: db_labels plus db_server,db read,list',
      [MACHINE_ID_DB],
      example,
      true,
      /"machine-id-db" matches db "example"/,
    ],
    [
      'fail/guide: rules but no db_labels',
      [role('r', { allow: { rules: listDb } })],
      example,
      false,
      /no role's allow.db_labels matches db "example"/,
    ],
    [
      'fail/label mismatch env=prod vs env=dev',
      [role('prod', { allow: { db_labels: { env: ['prod'] }, rules: listDb } })],
      example,
      false,
      /no role's allow.db_labels/,
    ],
    [
      'ok/label glob dev-*',
      [role('dev', { allow: { db_labels: { env: ['dev-*'] }, rules: listDb } })],
      database('x', { env: 'dev-eu' }),
      true,
      /"dev" matches/,
    ],
    [
      'fail/deny role matching the label',
      [MACHINE_ID_DB, role('no-dev', { deny: { db_labels: { env: ['dev'] } } })],
      example,
      false,
      /"no-dev" denies db "example" by deny.db_labels/,
    ],
    [
      'ok/deny role not matching the label',
      [MACHINE_ID_DB, role('no-prod', { deny: { db_labels: { env: ['prod'] } } })],
      example,
      true,
      /matches/,
    ],
    [
      'fail/deny rule on one alias hides',
      [MACHINE_ID_DB, role('no-list', { deny: { rules: [{ resources: ['db_server'], verbs: ['list'] }] } })],
      example,
      false,
      /"no-list" denies read\/list/,
    ],
    [
      'ok/deny rule on another verb',
      [MACHINE_ID_DB, role('no-del', { deny: { rules: [{ resources: ['db'], verbs: ['delete'] }] } })],
      example,
      true,
      /matches/,
    ],
    [
      'ok/labels and rules from different roles',
      [role('labels', { allow: { db_labels: { '*': ['*'] } } }), role('rules', { allow: { rules: listDb } })],
      example,
      true,
      /"labels" matches .*"rules" allows/,
    ],
    [
      'ok/one alias and one verb suffice',
      [
        role('r', {
          allow: { db_labels: { env: ['dev'] }, rules: [{ resources: ['db_server'], verbs: ['list'] }] },
        }),
      ],
      example,
      true,
      /matches/,
    ],
    [
      'fail/rule for another kind',
      [role('r', { allow: { db_labels: { '*': ['*'] }, rules: [{ resources: ['app'], verbs: ['*'] }] } })],
      example,
      false,
      /no role allows/,
    ],
    [
      'fail/other kind labels do not count',
      [role('r', { allow: { app_labels: { '*': ['*'] }, rules: listDb } })],
      example,
      false,
      /db_labels/,
    ],
    [
      'ok/kube by kubernetes_labels and kube_server',
      [
        role('k', {
          allow: {
            kubernetes_labels: { env: ['dev'] },
            rules: [{ resources: ['kube_server'], verbs: ['read'] }],
          },
        }),
      ],
      kubeCluster('k8s', { env: 'dev' }),
      true,
      /kubernetes_labels/,
    ],
    [
      'ok/app by app_labels and app_server',
      [
        role('a', {
          allow: { app_labels: { '*': ['*'] }, rules: [{ resources: ['app_server'], verbs: ['list'] }] },
        }),
      ],
      app('grafana'),
      true,
      /app_labels/,
    ],
    [
      'ok/node by node_labels and node',
      [
        role('n', {
          allow: { node_labels: { '*': ['*'] }, rules: [{ resources: ['node'], verbs: ['list'] }] },
        }),
      ],
      node('web-1'),
      true,
      /node_labels/,
    ],
    [
      'fail/node needs the node rule, not node_server',
      [
        role('n', {
          allow: { node_labels: { '*': ['*'] }, rules: [{ resources: ['node_server'], verbs: ['list'] }] },
        }),
      ],
      node('web-1'),
      false,
      /no role allows read or list on node/,
    ],
    ['fail/no roles', [], example, false, /no role's allow.db_labels/],
  ]
  for (const [name, roles, resource, allowed, reason] of cases) {
    it(name, () => {
      const decision = resourceVisible(roles, resource)
      assert.equal(decision.allowed, allowed)
      assert.match(decision.reason, reason)
    })
  }
})

describe('rolesMatching', () => {
  const dev = role('dev', { allow: { kubernetes_labels: { env: ['dev'] } } })
  const prod = role('prod', { allow: { kubernetes_labels: { env: ['prod'] } } })
  const blockDev = role('block-dev', { deny: { kubernetes_labels: { env: ['dev'] } } })

  it('ok/without a resource, all roles', () => {
    assert.deepEqual(rolesMatching([dev, prod]), [dev, prod])
  })
  it('ok/with a resource, roles whose allow labels match', () => {
    assert.deepEqual(rolesMatching([dev, prod], kubeCluster('c', { env: 'dev' })), [dev])
  })
  it('fail/a deny label match leaves no roles', () => {
    assert.deepEqual(rolesMatching([dev, prod, blockDev], kubeCluster('c', { env: 'dev' })), [])
  })
})
