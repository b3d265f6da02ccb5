import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkImpersonation, impersonatableRoles } from '../../../lib/rbac/impersonation.ts'
import type { Role } from '../../../lib/resources/types.ts'
import { role } from './fixtures.ts'

const may = (name: string, roles: string[]): Role => role(name, { allow: { impersonate: { roles } } })
const mayNot = (name: string, roles: string[]): Role => role(name, { deny: { impersonate: { roles } } })

describe('checkImpersonation', () => {
  const bot = may('bot-example', ['access', 'machine-id-db'])
  const cases: Array<[string, Role[], string[], boolean, RegExp]> = [
    [
      'ok/one role covers the request',
      [bot],
      ['access', 'machine-id-db'],
      true,
      /role "bot-example" allows impersonating "access", "machine-id-db"/,
    ],
    ['ok/subset of the allowed roles', [bot], ['access'], true, /"bot-example"/],
    ['ok/duplicates in the request', [bot], ['access', 'access'], true, /impersonating "access"$/],
    ['ok/star covers every role', [may('root', ['*'])], ['anything', 'else'], true, /"root"/],
    ['ok/glob covers matching roles', [may('dev', ['dev-*'])], ['dev-db', 'dev-k8s'], true, /"dev"/],
    [
      'ok/second caller role covers all',
      [may('a', ['x']), may('b', ['x', 'y'])],
      ['x', 'y'],
      true,
      /role "b"/,
    ],
    ['fail/empty request', [bot], [], false, /no roles requested/],
    ['fail/role not covered', [bot], ['access', 'editor'], false, /no role allows impersonating "editor"$/],
    ['fail/glob does not cover', [may('dev', ['dev-*'])], ['prod-db'], false, /"prod-db"/],
    ['fail/no caller roles', [], ['access'], false, /no role allows impersonating "access"/],
    [
      'fail/split across two roles',
      [may('half-a', ['access']), may('half-b', ['machine-id-db'])],
      ['access', 'machine-id-db'],
      false,
      /no single role allows impersonating all of "access", "machine-id-db" \(role "half-a" lacks "machine-id-db"; role "half-b" lacks "access"\)/,
    ],
    [
      'fail/deny before allow',
      [may('root', ['*']), mayNot('no-editor', ['editor'])],
      ['access', 'editor'],
      false,
      /role "no-editor" denies impersonating "editor"/,
    ],
    [
      'fail/deny glob',
      [may('root', ['*']), mayNot('no-admin', ['*admin*'])],
      ['db-admin'],
      false,
      /"no-admin" denies impersonating "db-admin"/,
    ],
    [
      'fail/deny star denies everything',
      [bot, mayNot('nothing', ['*'])],
      ['access'],
      false,
      /"nothing" denies/,
    ],
    [
      'fail/deny in the same role',
      [
        role('self', {
          allow: { impersonate: { roles: ['*'] } },
          deny: { impersonate: { roles: ['editor'] } },
        }),
      ],
      ['editor'],
      false,
      /"self" denies/,
    ],
  ]
  for (const [name, callerRoles, requested, allowed, reason] of cases) {
    it(name, () => {
      const decision = checkImpersonation(callerRoles, requested)
      assert.equal(decision.allowed, allowed)
      assert.match(decision.reason, reason)
    })
  }
})

describe('impersonatableRoles', () => {
  const all = ['access', 'editor', 'dev-db', 'dev-k8s', 'prod-db']
  const cases: Array<[string, Role[], string[], string[]]> = [
    ['ok/exact names, in catalogue order', [may('bot', ['editor', 'access'])], all, ['access', 'editor']],
    ['ok/globs', [may('bot', ['dev-*'])], all, ['dev-db', 'dev-k8s']],
    ['ok/union over caller roles', [may('a', ['access']), may('b', ['prod-db'])], all, ['access', 'prod-db']],
    ['ok/minus denied', [may('bot', ['*']), mayNot('deny', ['*-db'])], all, ['access', 'editor', 'dev-k8s']],
    ['ok/names outside the catalogue are not invented', [may('bot', ['ghost'])], all, []],
    ['ok/duplicates in the catalogue', [may('bot', ['access'])], ['access', 'access'], ['access']],
    ['fail/deny star', [may('bot', ['*']), mayNot('deny', ['*'])], all, []],
    ['fail/no impersonation grants', [role('plain')], all, []],
  ]
  for (const [name, callerRoles, catalogue, expected] of cases) {
    it(name, () => assert.deepEqual(impersonatableRoles(callerRoles, catalogue), expected))
  }

  it('ok/the expansion passes checkImpersonation for a bot role', () => {
    const botRole = may('bot-example', ['access', 'machine-id-db'])
    const expanded = impersonatableRoles([botRole], ['access', 'editor', 'machine-id-db'])
    assert.deepEqual(expanded, ['access', 'machine-id-db'])
    assert.equal(checkImpersonation([botRole], expanded).allowed, true)
  })
})
