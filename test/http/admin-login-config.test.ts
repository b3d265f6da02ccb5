/**
 * Who may log in as an administrator by IAM, and where that list comes from: the allow-list's
 * matching (lib/join/iam/admin-allow-list.ts), `CREDBROKER_ADMIN_IAM` in the service and Lambda
 * configurations, `CREDBROKER_DEPLOY_ADMIN_IAM` in the deployment settings, and the login routes
 * of an auth service with no list.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadInfraConfig } from '../../infra/config.ts'
import { loadConfig } from '../../lib/config/load-config.ts'
import {
  type AdminIamRule,
  adminUserOf,
  matchAdminRules,
  parseAdminIamRules,
} from '../../lib/join/iam/admin-allow-list.ts'
import { ADMIN_LOGIN_CHALLENGE_OWNER } from '../../lib/join/iam/sts-proof.ts'
import { isResourceName } from '../../lib/resources/fields.ts'
import { loadAuthLambdaConfig } from '../../lib/serverless/auth-config.ts'
import { authHarness, BASE_URL, newKey } from '../helpers/auth-harness.ts'
import { signedStsRequest } from '../helpers/iam-harness.ts'

const ACCOUNT = '123456789012'
const who = (arn: string, account = ACCOUNT) => ({ account, arn })
const session = (role: string, name = 'jane', account = ACCOUNT) =>
  who(`arn:aws:sts::${account}:assumed-role/${role}/${name}`, account)

describe('admin allow-list: matching', () => {
  const rules: AdminIamRule[] = [
    { arn: `arn:aws:iam::${ACCOUNT}:role/team/platform-admin`, roles: ['admin'] },
    { arn: `arn:aws:iam::${ACCOUNT}:role/ops-*`, roles: ['ops', 'admin'] },
    { arn: `arn:aws:iam::${ACCOUNT}:user/alice`, roles: ['auditor'], user: 'alice' },
    { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/break-glass/oncall-?`, roles: ['admin'] },
  ]

  it('ok/an IAM role ARN matches every session of the role (its path is not in the session ARN)', () => {
    assert.deepEqual(matchAdminRules(rules, session('platform-admin')), {
      user: `platform-admin@${ACCOUNT}`,
      roles: ['admin'],
    })
    assert.deepEqual(
      matchAdminRules(rules, session('platform-admin', 'bob'))?.user,
      `platform-admin@${ACCOUNT}`,
    )
  })

  it('ok/globs in the role name, exact user ARNs, assumed-role globs with ?', () => {
    assert.deepEqual(matchAdminRules(rules, session('ops-eu'))?.roles, ['ops', 'admin'])
    assert.deepEqual(matchAdminRules(rules, who(`arn:aws:iam::${ACCOUNT}:user/alice`)), {
      user: 'alice',
      roles: ['auditor'],
    })
    assert.ok(matchAdminRules(rules, session('break-glass', 'oncall-1')))
    assert.equal(matchAdminRules(rules, session('break-glass', 'oncall-12')), undefined)
  })

  it('ok/several matching rules: roles in rule order without repeats, the first user named', () => {
    const both: AdminIamRule[] = [
      { arn: `arn:aws:iam::${ACCOUNT}:role/ops-admin`, roles: ['ops'] },
      { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ops-*/*`, roles: ['admin', 'ops'], user: 'ops-team' },
    ]
    assert.deepEqual(matchAdminRules(both, session('ops-admin')), {
      user: 'ops-team',
      roles: ['ops', 'admin'],
    })
  })

  it('fail/other accounts, other roles, the role ARN itself, an empty list', () => {
    assert.equal(matchAdminRules(rules, session('platform-admin', 'jane', '210987654321')), undefined)
    assert.equal(matchAdminRules(rules, session('developer')), undefined)
    assert.equal(matchAdminRules(rules, who(`arn:aws:iam::${ACCOUNT}:user/alice2`)), undefined)
    assert.equal(matchAdminRules(rules, session('platform-admin-2')), undefined)
    assert.equal(matchAdminRules([], session('platform-admin')), undefined)
  })

  it('ok/derived users are resource names, so locks can target them', () => {
    const cases: [string, string][] = [
      [`arn:aws:sts::${ACCOUNT}:assumed-role/ops/jane@example.com`, `ops@${ACCOUNT}`],
      [`arn:aws:iam::${ACCOUNT}:user/path/to/bob+ci=1,x`, `bob_ci_1_x@${ACCOUNT}`],
      [`arn:aws:iam::${ACCOUNT}:root`, `root@${ACCOUNT}`],
      [`arn:aws:sts::${ACCOUNT}:federated-user/carol`, `carol@${ACCOUNT}`],
    ]
    for (const [arn, user] of cases) {
      assert.equal(adminUserOf(who(arn)), user)
      assert.ok(isResourceName(user), user)
    }
  })

  it('ok/the admin login challenge owner can never be a join token name', () => {
    assert.equal(isResourceName(ADMIN_LOGIN_CHALLENGE_OWNER), false)
  })
})

describe('admin allow-list: parsing', () => {
  it('ok/roles default to admin; user is optional', () => {
    const parsed = parseAdminIamRules(
      `[{"arn":"arn:aws:iam::${ACCOUNT}:role/a"},{"arn":"arn:aws:iam::${ACCOUNT}:user/b","roles":["ops"],"user":"b"}]`,
    )
    assert.deepEqual(parsed, {
      ok: true,
      rules: [
        { arn: `arn:aws:iam::${ACCOUNT}:role/a`, roles: ['admin'] },
        { arn: `arn:aws:iam::${ACCOUNT}:user/b`, roles: ['ops'], user: 'b' },
      ],
    })
  })

  it('fail/each problem names the rule and field', () => {
    const problem = (text: string) => {
      const parsed = parseAdminIamRules(text)
      assert.equal(parsed.ok, false)
      return parsed.ok ? '' : parsed.problem
    }
    assert.match(problem('{'), /must be JSON/)
    assert.match(problem('{"arn":"x"}'), /expected array/i)
    assert.match(problem('[{"arn":"role/admin"}]'), /^0\.arn: must be an ARN/)
    assert.match(
      problem(`[{"arn":"arn:aws:iam::${ACCOUNT}:role/*/admin"}]`),
      /^0\.arn: a wildcard may name the role/,
    )
    assert.match(problem(`[{"arn":"arn:aws:iam::${ACCOUNT}:role/a","roles":[]}]`), /^0\.roles/)
    assert.match(problem(`[{"arn":"arn:aws:iam::${ACCOUNT}:role/a","user":"a b"}]`), /^0\.user/)
    assert.match(problem(`[{"arn":"arn:aws:iam::${ACCOUNT}:role/a","role":"admin"}]`), /unknown field role/)
  })

  it('fail/a rule names one partition, service and account literally: each wildcard is refused by field', () => {
    const problem = (arn: string) => {
      const parsed = parseAdminIamRules(JSON.stringify([{ arn }]))
      assert.equal(parsed.ok, false, `${arn} is refused`)
      return parsed.ok ? '' : parsed.problem
    }
    const refused: [string, RegExp][] = [
      // A role named Admin in any AWS account, an attacker's included.
      ['arn:aws:iam::*:role/Admin', /^0\.arn: the account must be a 12-digit AWS account id .*\(got "\*"\)$/],
      [
        'arn:aws:sts::12345678901?:assumed-role/Admin/*',
        /^0\.arn: the account must be .*\(got "12345678901\?"\)$/,
      ],
      ['arn:aws:iam::12345678901:role/Admin', /^0\.arn: the account must be/],
      ['arn:aws:iam:::role/Admin', /^0\.arn: the account must be/],
      ['arn:*', /^0\.arn: the partition must be aws, aws-cn, aws-us-gov .*\(got "\*"\)$/],
      [`arn:aws*:iam::${ACCOUNT}:role/Admin`, /^0\.arn: the partition must be/],
      [`arn:aws-iso:iam::${ACCOUNT}:role/Admin`, /^0\.arn: the partition must be/],
      [`arn:*:iam::${ACCOUNT}:role/Admin`, /^0\.arn: the partition must be/],
      [`arn:aws:*::${ACCOUNT}:role/Admin`, /^0\.arn: the service must be iam or sts .*\(got "\*"\)$/],
      [`arn:aws:s3:::${ACCOUNT}`, /^0\.arn: the service must be iam or sts/],
      [`arn:aws:iam:*:${ACCOUNT}:role/Admin`, /^0\.arn: the region must be empty/],
      [`arn:aws:sts:us-east-1:${ACCOUNT}:assumed-role/Admin/*`, /^0\.arn: the region must be empty/],
      [`arn:aws:iam::${ACCOUNT}`, /^0\.arn: the resource is missing/],
      [`arn:aws:iam::${ACCOUNT}:`, /^0\.arn: the resource is missing/],
      // Still no wildcard in a role's path.
      [`arn:aws:iam::${ACCOUNT}:role/*/Admin`, /^0\.arn: a wildcard may name the role/],
    ]
    for (const [arn, expected] of refused) assert.match(problem(arn), expected, arn)
    // The rule's index is named.
    const second = parseAdminIamRules(
      JSON.stringify([{ arn: `arn:aws:iam::${ACCOUNT}:role/a` }, { arn: 'arn:aws:iam::*:role/b' }]),
    )
    assert.match(second.ok ? '' : second.problem, /^1\.arn: the account/)
  })

  it('ok/globs in the resource part of a literal partition, service and account', () => {
    for (const arn of [
      `arn:aws:iam::${ACCOUNT}:role/ops-*`,
      `arn:aws:iam::${ACCOUNT}:role/team/ops-?`,
      `arn:aws-cn:sts::${ACCOUNT}:assumed-role/admin/*`,
      `arn:aws-us-gov:iam::${ACCOUNT}:user/*`,
      `arn:aws:iam::${ACCOUNT}:root`,
    ])
      assert.equal(parseAdminIamRules(JSON.stringify([{ arn }])).ok, true, arn)
  })
})

describe('admin allow-list: configuration', () => {
  const list = `[{"arn":"arn:aws:iam::${ACCOUNT}:role/platform-admin"}]`
  const lambdaEnv = {
    CREDBROKER_STORE: 'dynamodb',
    CREDBROKER_DYNAMODB_TABLE: 'credbroker-state',
    AWS_REGION: 'eu-west-1',
    CREDBROKER_KMS_KEYS: '{"user-tls":"k"}',
  }

  it('ok/CREDBROKER_ADMIN_IAM in the service and auth Lambda configurations; none by default', () => {
    const expected = [{ arn: `arn:aws:iam::${ACCOUNT}:role/platform-admin`, roles: ['admin'] }]
    assert.deepEqual(loadConfig({ CREDBROKER_ADMIN_IAM: list }, '/').iam.admins, expected)
    assert.deepEqual(loadConfig({}, '/').iam.admins, [])
    const lambda = loadAuthLambdaConfig({ ...lambdaEnv, CREDBROKER_ADMIN_IAM: list }, '/')
    assert.deepEqual(lambda.service.iam.admins, expected)
  })

  it('fail/a bad list stops the process with the variable named', () => {
    assert.throws(() => loadConfig({ CREDBROKER_ADMIN_IAM: '[{"arn":"nope"}]' }, '/'), {
      code: 'ERR_INVALID_CONFIG',
      message: /^CREDBROKER_ADMIN_IAM: 0\.arn: must be an ARN/,
    })
    assert.throws(() => loadConfig({ CREDBROKER_ADMIN_IAM: '[{"arn":"arn:*"}]' }, '/'), {
      code: 'ERR_INVALID_CONFIG',
      message: /^CREDBROKER_ADMIN_IAM: 0\.arn: the partition must be/,
    })
  })

  it('ok/CREDBROKER_DEPLOY_ADMIN_IAM becomes the auth function setting, checked at deploy time', () => {
    const load = (env: Record<string, string>) => loadInfraConfig({ app: 'credbroker', stage: 'dev', env })
    assert.equal(load({}).adminIam, undefined)
    const setting = load({ CREDBROKER_DEPLOY_ADMIN_IAM: list }).adminIam
    assert.ok(setting)
    // Exactly what the auth function will parse.
    assert.deepEqual(loadConfig({ CREDBROKER_ADMIN_IAM: setting }, '/').iam.admins, [
      { arn: `arn:aws:iam::${ACCOUNT}:role/platform-admin`, roles: ['admin'] },
    ])
    assert.throws(() => load({ CREDBROKER_DEPLOY_ADMIN_IAM: '[{"arn":"nope"}]' }), {
      code: 'ERR_INVALID_CONFIG',
      message: /^CREDBROKER_DEPLOY_ADMIN_IAM: /,
    })
    // A wildcard account stops the deploy, not just the function.
    assert.throws(() => load({ CREDBROKER_DEPLOY_ADMIN_IAM: '[{"arn":"arn:aws:iam::*:role/Admin"}]' }), {
      code: 'ERR_INVALID_CONFIG',
      message: /^CREDBROKER_DEPLOY_ADMIN_IAM: 0\.arn: the account must be/,
    })
  })
})

describe('admin login routes on a service with no list', () => {
  it('fail/no challenge is issued (403) and nothing is stored', async () => {
    const h = await authHarness()
    const before = (await h.store.list('iam_challenge/')).items.length
    const res = await h.fetch(`${BASE_URL}/v1/admin/login/iam/challenge`, { method: 'POST', body: '{}' })
    assert.equal(res.status, 403)
    assert.equal(((await res.json()) as { code: string }).code, 'ERR_ACCESS_DENIED')
    assert.equal((await h.store.list('iam_challenge/')).items.length, before)
  })

  it('fail/a signed request without a live challenge is refused before STS is asked', async () => {
    const h = await authHarness()
    for (const challenge of [undefined, 'never-issued']) {
      const res = await h.fetch(`${BASE_URL}/v1/admin/login/iam`, {
        method: 'POST',
        body: JSON.stringify({
          public_key: newKey().publicPem,
          sts_request: await signedStsRequest(challenge, h.clock.now()),
        }),
      })
      assert.equal(res.status, 401)
      assert.equal(((await res.json()) as { code: string }).code, 'ERR_IAM_BAD_CHALLENGE')
    }
  })
})
