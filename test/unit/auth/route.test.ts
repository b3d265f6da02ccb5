/**
 * Routed issuance (lib/auth/route.ts) through the real auth app: `POST /v1/certs` with `route`,
 * sent by a joined bot that may impersonate every role below. Each case names the roles the
 * certificate is requested for; what the certificate carries is read back with decodeIdentity and
 * checked against the CA bundle of `/v1/cas`.
 */
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { describe, it } from 'node:test'
import type { IssueResponse } from '../../../lib/auth/issue-response.ts'
import type { CertsRoute, ClientIdentity } from '../../../lib/bot/auth-client.ts'
import type { BrokerErrorCode } from '../../../lib/errors.ts'
import type { Identity } from '../../../lib/identity/identity.ts'
import { decodeIdentity } from '../../../lib/identity/x509-encoding.ts'
import { type AuthHarness, authHarness, joinedBot, newKey } from '../../helpers/auth-harness.ts'

const ARN = (name: string) => `arn:aws:iam::123456789012:role/${name}`
const DB_RULE = { resources: ['db_server', 'db'], verbs: ['read', 'list'] }
const KUBE_RULE = { resources: ['kube_cluster'], verbs: ['read', 'list'] }
const APP_RULE = { resources: ['app'], verbs: ['list'] }

/** Role specs by name (`machine-id-db`, the guide's role, comes from examples/cluster). */
const ROLES: Record<string, { allow?: object; deny?: object }> = {
  // databases
  'db-dev': {
    allow: { db_labels: { env: 'dev' }, db_users: ['alice'], db_names: ['example'], rules: [DB_RULE] },
  },
  'db-no-rules': { allow: { db_labels: { '*': '*' }, db_users: ['alice'], db_names: ['example'] } },
  'db-wrong-verb': {
    allow: {
      db_labels: { '*': '*' },
      db_users: ['alice'],
      db_names: ['example'],
      rules: [{ resources: ['db', 'db_server'], verbs: ['update', 'read_no_secrets'] }],
    },
  },
  'db-deny-dev': { deny: { db_labels: { env: 'dev' } } },
  'db-deny-list': { deny: { rules: [{ resources: ['db_server'], verbs: ['list'] }] } },
  'db-two-users': {
    allow: { db_labels: { '*': '*' }, db_users: ['alice', 'bob'], db_names: ['example'], rules: [DB_RULE] },
  },
  'db-any-user': {
    allow: { db_labels: { '*': '*' }, db_users: ['*'], db_names: ['example'], rules: [DB_RULE] },
  },
  'db-any-name': {
    allow: { db_labels: { '*': '*' }, db_users: ['alice'], db_names: ['*'], rules: [DB_RULE] },
  },
  'db-deny-alice': { deny: { db_users: ['alice'] } },
  'db-deny-example-name': { deny: { db_names: ['example'] } },
  'db-bob-reports': { allow: { db_labels: { '*': '*' }, db_users: ['bob'], db_names: ['reports'] } },
  'db-prod-root': { allow: { db_labels: { env: 'prod' }, db_users: ['root'], db_names: ['*'] } },
  'db-mysql': {
    allow: {
      db_labels: { engine: 'mysql' },
      db_users: ['app'],
      rules: [{ resources: ['db'], verbs: ['list'] }],
    },
  },
  // kubernetes clusters
  'kube-dev': {
    allow: {
      kubernetes_labels: { env: 'dev' },
      kubernetes_users: ['ci-user'],
      kubernetes_groups: ['viewers'],
      rules: [KUBE_RULE],
    },
  },
  'kube-deployers': {
    allow: {
      kubernetes_labels: { '*': '*' },
      kubernetes_groups: ['deployers'],
      rules: [{ resources: ['kube_server'], verbs: ['list'] }],
    },
  },
  'kube-prod-admins': {
    allow: { kubernetes_labels: { env: 'prod' }, kubernetes_groups: ['prod-admins'], rules: [KUBE_RULE] },
  },
  'kube-no-rules': { allow: { kubernetes_labels: { '*': '*' }, kubernetes_groups: ['viewers'] } },
  'kube-see-only': { allow: { kubernetes_labels: { '*': '*' }, rules: [KUBE_RULE] } },
  'kube-two-users': {
    allow: { kubernetes_labels: { '*': '*' }, kubernetes_users: ['a', 'b'], rules: [KUBE_RULE] },
  },
  'kube-user-pattern': {
    allow: {
      kubernetes_labels: { '*': '*' },
      kubernetes_users: ['ci-*'],
      kubernetes_groups: ['viewers'],
      rules: [KUBE_RULE],
    },
  },
  'kube-any-user': {
    allow: {
      kubernetes_labels: { '*': '*' },
      kubernetes_users: ['*'],
      kubernetes_groups: ['viewers'],
      rules: [KUBE_RULE],
    },
  },
  'kube-deny-prod': { deny: { kubernetes_labels: { env: 'prod' } } },
  'kube-deny-rule': { deny: { rules: [{ resources: ['kube_server'], verbs: ['read'] }] } },
  'kube-deny-viewers': { deny: { kubernetes_groups: ['viewers'] } },
  // applications
  'app-dev': {
    allow: { app_labels: { env: 'dev' }, aws_role_arns: [ARN('grafana-reader')], rules: [APP_RULE] },
  },
  'app-all': {
    allow: {
      app_labels: { '*': '*' },
      aws_role_arns: [ARN('auditor')],
      rules: [{ resources: ['app_server'], verbs: ['read'] }],
    },
  },
  'app-prod': {
    allow: { app_labels: { env: 'prod' }, aws_role_arns: [ARN('payroll-admin')], rules: [APP_RULE] },
  },
  'app-no-rules': { allow: { app_labels: { '*': '*' }, aws_role_arns: [ARN('auditor')] } },
  'app-deny-prod': { deny: { app_labels: { env: 'prod' } } },
  'app-deny-rule': { deny: { rules: [{ resources: ['app'], verbs: ['list'] }] } },
  'app-deny-auditor': { deny: { aws_role_arns: [ARN('auditor')] } },
}

/** Registered resources besides examples/cluster's db `example` (postgres, env=dev, 127.0.0.1:5432). */
const RESOURCES = [
  {
    kind: 'db',
    metadata: { name: 'billing', labels: { env: 'prod' } },
    spec: { protocol: 'postgres', uri: '127.0.0.1:5433' },
  },
  {
    kind: 'db',
    metadata: { name: 'orders', labels: { env: 'dev', engine: 'mysql' } },
    spec: { protocol: 'mysql', uri: '127.0.0.1:3306' },
  },
  {
    kind: 'kube_cluster',
    metadata: { name: 'dev-k8s', labels: { env: 'dev' } },
    spec: { server: 'https://127.0.0.1:6443' },
  },
  { kind: 'kube_cluster', metadata: { name: 'prod-k8s', labels: { env: 'prod' } } },
  {
    kind: 'app',
    metadata: { name: 'grafana', labels: { env: 'dev' } },
    spec: { uri: 'http://127.0.0.1:3000', public_addr: 'grafana.test.local' },
  },
  {
    kind: 'app',
    metadata: { name: 'payroll', labels: { env: 'prod' } },
    spec: { uri: 'http://127.0.0.1:4000' },
  },
]

interface Env {
  readonly h: AuthHarness
  readonly bot: ClientIdentity
}

/** A fresh auth service with every role and resource above, and bot `example` allowed them all. */
async function setup(): Promise<Env> {
  const h = await authHarness()
  const resources = h.service.deps.resources
  for (const [name, spec] of Object.entries(ROLES)) {
    await resources.create({ kind: 'role', version: 'v1', metadata: { name }, spec })
  }
  for (const doc of RESOURCES) await resources.create({ version: 'v1', ...doc })
  const { identity } = await joinedBot(h, ['machine-id-db', ...Object.keys(ROLES)])
  return { h, bot: identity }
}

const request = (env: Env, roles: readonly string[], route: CertsRoute): Promise<IssueResponse> =>
  env.h.client.certs(env.bot, { publicKeyPem: newKey().publicPem, roles, ttlSeconds: 3600, route })

const audits = async (h: AuthHarness) =>
  (await h.store.list('audit/')).items
    .map((i) => JSON.parse(i.value) as Record<string, unknown>)
    .filter((e) => e.type === 'cert.issued')

interface Allowed {
  /** Which CA of `/v1/cas` signed the certificate. */
  readonly ca: 'db' | 'user'
  /** `X509Certificate.subject`: one `ATTR=value` per line. */
  readonly subject: string
  readonly routes: Identity['routes']
  /** Grant fields of the decoded identity, exactly (absent fields must be absent). */
  readonly grants: Partial<
    Pick<Identity, 'databaseUsers' | 'databaseNames' | 'kubernetesUsers' | 'kubernetesGroups' | 'awsRoleArns'>
  >
  readonly target: IssueResponse['target']
  /** `route` in the audit event. */
  readonly audit: string
}

interface Refused {
  readonly code: BrokerErrorCode
  readonly status: number
  /** The exact caller-facing message. */
  readonly message: string
}

interface RouteCase {
  readonly name: string
  readonly roles: readonly string[]
  readonly route: CertsRoute
  readonly expect: Allowed | Refused
}

const GRANT_FIELDS = [
  'databaseUsers',
  'databaseNames',
  'kubernetesUsers',
  'kubernetesGroups',
  'awsRoleArns',
] as const

async function assertAllowed(env: Env, c: RouteCase, expected: Allowed): Promise<void> {
  // Act
  const res = await request(env, c.roles, c.route)
  // Assess: the response
  assert.equal(res.ssh_cert, undefined, 'routed identities are TLS-only')
  assert.deepEqual(res.target, expected.target)
  // the certificate: issuer, subject, identity
  const cert = new X509Certificate(res.tls_cert)
  const cas = await env.h.client.cas()
  const issuer = new X509Certificate(cas.tls[expected.ca][0] as string)
  const other = new X509Certificate(cas.tls[expected.ca === 'db' ? 'user' : 'db'][0] as string)
  assert.ok(cert.checkIssued(issuer) && cert.verify(issuer.publicKey), `signed by the ${expected.ca} CA`)
  assert.ok(!cert.checkIssued(other) && !cert.verify(other.publicKey), 'not signed by the other CA')
  assert.equal(cert.subject, expected.subject)
  const id = decodeIdentity(cert.raw)
  assert.deepEqual(
    { user: id.user, roles: id.roles, impersonator: id.impersonator, reissue: id.disallowReissue },
    { user: 'bot-example', roles: c.roles, impersonator: 'bot-example', reissue: true },
  )
  assert.deepEqual(id.routes, expected.routes)
  for (const field of GRANT_FIELDS) assert.deepEqual(id[field], expected.grants[field], field)
  assert.equal(res.serial, cert.serialNumber.toLowerCase())
  // the audit event
  const events = (await audits(env.h)).filter((e) => e.serial === res.serial)
  assert.equal(events.length, 1)
  assert.deepEqual(
    { success: events[0]?.success, user: events[0]?.user, roles: events[0]?.roles, route: events[0]?.route },
    { success: true, user: 'bot-example', roles: c.roles, route: expected.audit },
  )
}

async function assertRefused(env: Env, c: RouteCase, expected: Refused): Promise<void> {
  // Act
  const outcome = await request(env, c.roles, c.route).then(
    () => undefined,
    (err: { code?: string; status?: number; message: string }) => err,
  )
  // Assess
  assert.ok(outcome, 'the request must be refused')
  assert.deepEqual(
    { code: outcome.code, status: outcome.status, message: outcome.message },
    { code: expected.code, status: expected.status, message: expected.message },
  )
  const events = await audits(env.h)
  assert.equal(events.filter((e) => e.success === true).length, 0, 'nothing issued')
  if (expected.code === 'ERR_ACCESS_DENIED') {
    assert.deepEqual(
      events.map((e) => ({ success: e.success, roles: e.roles, reason: e.reason })),
      [{ success: false, roles: c.roles, reason: expected.message }],
    )
  }
}

function runCases(cases: readonly RouteCase[]): void {
  for (const c of cases) {
    it(c.name, async () => {
      // Prepare
      const env = await setup()
      if ('code' in c.expect) await assertRefused(env, c, c.expect)
      else await assertAllowed(env, c, c.expect)
    })
  }
}

const notFound = (message: string): Refused => ({ code: 'ERR_NOT_FOUND', status: 404, message })
const denied = (message: string): Refused => ({ code: 'ERR_ACCESS_DENIED', status: 403, message })
const badRequest = (message: string): Refused => ({ code: 'ERR_BAD_REQUEST', status: 400, message })

const PG_EXAMPLE = { uri: '127.0.0.1:5432', protocol: 'postgres' }
const pgRoute = (username: string, database = 'example') => ({
  database: { service: 'example', protocol: 'postgres', username, database },
})

describe('Function: resolveRoute (POST /v1/certs with route)', () => {
  describe('Route: database', () => {
    runCases([
      {
        name: 'ok/the guide role: user and name as asked, signed by the database CA, CN=<db user>',
        roles: ['machine-id-db'],
        route: { database: { service: 'example', username: 'alice', database: 'example' } },
        expect: {
          ca: 'db',
          subject: 'CN=alice',
          routes: pgRoute('alice'),
          grants: { databaseUsers: ['alice'], databaseNames: ['example'] },
          target: PG_EXAMPLE,
          audit: 'database:example',
        },
      },
      {
        name: 'ok/username and database name omitted: defaulted to the single literal grants',
        roles: ['machine-id-db'],
        route: { database: { service: 'example' } },
        expect: {
          ca: 'db',
          subject: 'CN=alice',
          routes: pgRoute('alice'),
          grants: { databaseUsers: ['alice'], databaseNames: ['example'] },
          target: PG_EXAMPLE,
          audit: 'database:example',
        },
      },
      {
        name: 'ok/a glob db_users entry allows an explicit username',
        roles: ['db-any-user'],
        route: { database: { service: 'example', username: 'carol' } },
        expect: {
          ca: 'db',
          subject: 'CN=carol',
          routes: pgRoute('carol'),
          grants: { databaseUsers: ['*'], databaseNames: ['example'] },
          target: PG_EXAMPLE,
          audit: 'database:example',
        },
      },
      {
        name: 'ok/grants come only from roles whose db_labels match (root is for prod only)',
        roles: ['machine-id-db', 'db-prod-root'],
        route: { database: { service: 'example', username: 'alice' } },
        expect: {
          ca: 'db',
          subject: 'CN=alice',
          routes: pgRoute('alice'),
          grants: { databaseUsers: ['alice'], databaseNames: ['example'] },
          target: PG_EXAMPLE,
          audit: 'database:example',
        },
      },
      {
        name: 'ok/mysql routes by user alone: no database name needed',
        roles: ['db-mysql'],
        route: { database: { service: 'orders' } },
        expect: {
          ca: 'db',
          subject: 'CN=app',
          routes: { database: { service: 'orders', protocol: 'mysql', username: 'app' } },
          grants: { databaseUsers: ['app'], databaseNames: [] },
          target: { uri: '127.0.0.1:3306', protocol: 'mysql' },
          audit: 'database:orders',
        },
      },
      {
        name: 'fail/hidden by labels: db_labels env=dev do not match env=prod',
        roles: ['db-dev'],
        route: { database: { service: 'billing', username: 'alice' } },
        expect: notFound('database "billing" not found'),
      },
      {
        name: 'fail/no read/list rule on db or db_server (the troubleshooting guide case)',
        roles: ['db-no-rules'],
        route: { database: { service: 'example', username: 'alice' } },
        expect: notFound('database "example" not found'),
      },
      {
        name: 'fail/rules with other verbs (update, read_no_secrets) do not make it visible',
        roles: ['db-wrong-verb'],
        route: { database: { service: 'example', username: 'alice' } },
        expect: notFound('database "example" not found'),
      },
      {
        name: 'fail/deny db_labels hide it whatever another role allows',
        roles: ['machine-id-db', 'db-deny-dev'],
        route: { database: { service: 'example', username: 'alice' } },
        expect: notFound('database "example" not found'),
      },
      {
        name: 'fail/a deny rule (list on db_server) hides it',
        roles: ['machine-id-db', 'db-deny-list'],
        route: { database: { service: 'example', username: 'alice' } },
        expect: notFound('database "example" not found'),
      },
      {
        name: 'fail/a missing database: the same not found',
        roles: ['machine-id-db'],
        route: { database: { service: 'nope', username: 'alice' } },
        expect: notFound('database "nope" not found'),
      },
      {
        name: 'fail/username not in db_users',
        roles: ['machine-id-db'],
        route: { database: { service: 'example', username: 'bob' } },
        expect: denied(
          'access to database "example" denied: no role matching db "example" allows user "bob" on database name "example"',
        ),
      },
      {
        name: 'fail/database name not in db_names',
        roles: ['machine-id-db'],
        route: { database: { service: 'example', username: 'alice', database: 'other' } },
        expect: denied(
          'access to database "example" denied: no role matching db "example" allows user "alice" on database name "other"',
        ),
      },
      {
        name: 'fail/user and name allowed by different roles do not combine',
        roles: ['machine-id-db', 'db-bob-reports'],
        route: { database: { service: 'example', username: 'bob', database: 'example' } },
        expect: denied(
          'access to database "example" denied: no role matching db "example" allows user "bob" on database name "example"',
        ),
      },
      {
        name: 'fail/username omitted with several allowed users: the request must pick one',
        roles: ['db-two-users'],
        route: { database: { service: 'example' } },
        expect: badRequest('database "example" needs a username: the roles allow alice, bob'),
      },
      {
        name: 'fail/username omitted with a glob db_users: the request must pick one',
        roles: ['db-any-user'],
        route: { database: { service: 'example' } },
        expect: badRequest('database "example" needs a username: the roles allow *'),
      },
      {
        name: 'fail/postgres needs a database name when db_names is a glob',
        roles: ['db-any-name'],
        route: { database: { service: 'example', username: 'alice' } },
        expect: badRequest('database "example" (postgres) needs a database name: the roles allow *'),
      },
      {
        name: 'fail/deny db_users refuses the user another role allows',
        roles: ['machine-id-db', 'db-deny-alice'],
        route: { database: { service: 'example', username: 'alice' } },
        expect: denied(
          'access to database "example" denied: role "db-deny-alice" denies database user "alice"',
        ),
      },
      {
        name: 'fail/deny db_users leaving no user: refused, not a bad request',
        roles: ['machine-id-db', 'db-deny-alice'],
        route: { database: { service: 'example' } },
        expect: denied('access to database "example" denied: the roles allow no db_users'),
      },
      {
        name: 'fail/deny db_names refuses the name another role allows',
        roles: ['machine-id-db', 'db-deny-example-name'],
        route: { database: { service: 'example', username: 'alice', database: 'example' } },
        expect: denied(
          'access to database "example" denied: role "db-deny-example-name" denies database name "example"',
        ),
      },
      {
        name: 'fail/deny db_names leaving no name for postgres: refused',
        roles: ['machine-id-db', 'db-deny-example-name'],
        route: { database: { service: 'example', username: 'alice' } },
        expect: denied('access to database "example" denied: the roles allow no db_names'),
      },
    ])
  })

  describe('Route: kubernetes cluster', () => {
    const DEV_TARGET = { uri: 'https://127.0.0.1:6443' }
    runCases([
      {
        name: 'ok/user and group: CN=<kube user>, O=<group>, signed by the user CA',
        roles: ['kube-dev'],
        route: { kubernetes_cluster: 'dev-k8s' },
        expect: {
          ca: 'user',
          subject: 'CN=ci-user\nO=viewers',
          routes: { kubernetesCluster: 'dev-k8s' },
          grants: { kubernetesUsers: ['ci-user'], kubernetesGroups: ['viewers'] },
          target: DEV_TARGET,
          audit: 'kubernetes:dev-k8s',
        },
      },
      {
        name: 'ok/groups only: CN is the identity user; a cluster without server has an empty target',
        roles: ['kube-deployers'],
        route: { kubernetes_cluster: 'prod-k8s' },
        expect: {
          ca: 'user',
          subject: 'CN=bot-example\nO=deployers',
          routes: { kubernetesCluster: 'prod-k8s' },
          grants: { kubernetesUsers: [], kubernetesGroups: ['deployers'] },
          target: {},
          audit: 'kubernetes:prod-k8s',
        },
      },
      {
        name: 'ok/groups come from matching roles only (dev: not prod-admins)',
        roles: ['kube-deployers', 'kube-prod-admins'],
        route: { kubernetes_cluster: 'dev-k8s' },
        expect: {
          ca: 'user',
          subject: 'CN=bot-example\nO=deployers',
          routes: { kubernetesCluster: 'dev-k8s' },
          grants: { kubernetesUsers: [], kubernetesGroups: ['deployers'] },
          target: DEV_TARGET,
          audit: 'kubernetes:dev-k8s',
        },
      },
      {
        name: 'ok/groups come from matching roles only (prod: both)',
        roles: ['kube-deployers', 'kube-prod-admins'],
        route: { kubernetes_cluster: 'prod-k8s' },
        expect: {
          ca: 'user',
          subject: 'CN=bot-example\nO=deployers\nO=prod-admins',
          routes: { kubernetesCluster: 'prod-k8s' },
          grants: { kubernetesUsers: [], kubernetesGroups: ['deployers', 'prod-admins'] },
          target: {},
          audit: 'kubernetes:prod-k8s',
        },
      },
      {
        name: 'ok/a kubernetes_users of * admits the identity user',
        roles: ['kube-any-user'],
        route: { kubernetes_cluster: 'dev-k8s' },
        expect: {
          ca: 'user',
          subject: 'CN=bot-example\nO=viewers',
          routes: { kubernetesCluster: 'dev-k8s' },
          grants: { kubernetesUsers: ['*'], kubernetesGroups: ['viewers'] },
          target: DEV_TARGET,
          audit: 'kubernetes:dev-k8s',
        },
      },
      {
        name: 'ok/deny kubernetes_groups removes the group another role grants',
        roles: ['kube-dev', 'kube-deny-viewers'],
        route: { kubernetes_cluster: 'dev-k8s' },
        expect: {
          ca: 'user',
          subject: 'CN=ci-user',
          routes: { kubernetesCluster: 'dev-k8s' },
          grants: { kubernetesUsers: ['ci-user'], kubernetesGroups: [] },
          target: DEV_TARGET,
          audit: 'kubernetes:dev-k8s',
        },
      },
      {
        name: 'fail/hidden by labels: kubernetes_labels env=dev do not match env=prod',
        roles: ['kube-dev'],
        route: { kubernetes_cluster: 'prod-k8s' },
        expect: notFound('kubernetes cluster "prod-k8s" not found'),
      },
      {
        name: 'fail/no read/list rule on kube_cluster or kube_server',
        roles: ['kube-no-rules'],
        route: { kubernetes_cluster: 'dev-k8s' },
        expect: notFound('kubernetes cluster "dev-k8s" not found'),
      },
      {
        name: 'fail/deny kubernetes_labels hide it whatever another role allows',
        roles: ['kube-deployers', 'kube-deny-prod'],
        route: { kubernetes_cluster: 'prod-k8s' },
        expect: notFound('kubernetes cluster "prod-k8s" not found'),
      },
      {
        name: 'fail/a deny rule on the kube_server alias hides it',
        roles: ['kube-dev', 'kube-deny-rule'],
        route: { kubernetes_cluster: 'dev-k8s' },
        expect: notFound('kubernetes cluster "dev-k8s" not found'),
      },
      {
        name: 'fail/a missing cluster: the same not found',
        roles: ['kube-dev'],
        route: { kubernetes_cluster: 'nope' },
        expect: notFound('kubernetes cluster "nope" not found'),
      },
      {
        name: 'fail/visible but no kubernetes_users or kubernetes_groups granted',
        roles: ['kube-see-only'],
        route: { kubernetes_cluster: 'dev-k8s' },
        expect: denied(
          'the roles grant no kubernetes_users or kubernetes_groups on kubernetes cluster "dev-k8s"',
        ),
      },
      {
        name: 'fail/several kubernetes_users: a certificate names one',
        roles: ['kube-two-users'],
        route: { kubernetes_cluster: 'dev-k8s' },
        expect: denied(
          'the roles grant several kubernetes_users on "dev-k8s" (a, b); a certificate names one',
        ),
      },
      {
        name: 'fail/a lone kubernetes_users pattern names no user',
        roles: ['kube-user-pattern'],
        route: { kubernetes_cluster: 'dev-k8s' },
        expect: denied(
          'the roles grant kubernetes_users on "dev-k8s" only as the pattern "ci-*"; a certificate names one user',
        ),
      },
    ])
  })

  describe('Route: application', () => {
    const GRAFANA_TARGET = { uri: 'http://127.0.0.1:3000', public_addr: 'grafana.test.local' }
    runCases([
      {
        name: "ok/a visible app: the identity's subject, aws_role_arns carried, signed by the user CA",
        roles: ['app-dev'],
        route: { app: 'grafana' },
        expect: {
          ca: 'user',
          subject: 'CN=bot-example\nO=app-dev',
          routes: { app: 'grafana' },
          grants: { awsRoleArns: [ARN('grafana-reader')] },
          target: GRAFANA_TARGET,
          audit: 'app:grafana',
        },
      },
      {
        name: 'ok/aws_role_arns come from matching roles only',
        roles: ['app-dev', 'app-all', 'app-prod'],
        route: { app: 'grafana' },
        expect: {
          ca: 'user',
          subject: 'CN=bot-example\nO=app-dev\nO=app-all\nO=app-prod',
          routes: { app: 'grafana' },
          grants: { awsRoleArns: [ARN('auditor'), ARN('grafana-reader')] },
          target: GRAFANA_TARGET,
          audit: 'app:grafana',
        },
      },
      {
        name: 'ok/deny aws_role_arns removes the ARN another role grants',
        roles: ['app-all', 'app-deny-auditor'],
        route: { app: 'payroll' },
        expect: {
          ca: 'user',
          subject: 'CN=bot-example\nO=app-all\nO=app-deny-auditor',
          routes: { app: 'payroll' },
          grants: { awsRoleArns: [] },
          target: { uri: 'http://127.0.0.1:4000' },
          audit: 'app:payroll',
        },
      },
      {
        name: 'fail/hidden by labels: app_labels env=dev do not match env=prod',
        roles: ['app-dev'],
        route: { app: 'payroll' },
        expect: notFound('application "payroll" not found'),
      },
      {
        name: 'fail/no read/list rule on app or app_server',
        roles: ['app-no-rules'],
        route: { app: 'grafana' },
        expect: notFound('application "grafana" not found'),
      },
      {
        name: 'fail/deny app_labels hide it whatever another role allows',
        roles: ['app-all', 'app-deny-prod'],
        route: { app: 'payroll' },
        expect: notFound('application "payroll" not found'),
      },
      {
        name: 'fail/a deny rule (list on app) hides it',
        roles: ['app-dev', 'app-deny-rule'],
        route: { app: 'grafana' },
        expect: notFound('application "grafana" not found'),
      },
      {
        name: 'fail/a missing app: the same not found',
        roles: ['app-dev'],
        route: { app: 'nope' },
        expect: notFound('application "nope" not found'),
      },
    ])
  })

  describe('Invisible and missing are indistinguishable', () => {
    const secret = { env: 'secret' }
    const kinds = [
      {
        what: 'database',
        roles: ['db-dev'],
        doc: {
          kind: 'db',
          metadata: { name: 'secret', labels: secret },
          spec: { protocol: 'postgres', uri: '127.0.0.1:5434' },
        },
        route: { database: { service: 'secret', username: 'alice', database: 'example' } },
      },
      {
        what: 'kubernetes cluster',
        roles: ['kube-dev'],
        doc: { kind: 'kube_cluster', metadata: { name: 'secret', labels: secret } },
        route: { kubernetes_cluster: 'secret' },
      },
      {
        what: 'application',
        roles: ['app-dev'],
        doc: {
          kind: 'app',
          metadata: { name: 'secret', labels: secret },
          spec: { uri: 'http://127.0.0.1:5000' },
        },
        route: { app: 'secret' },
      },
    ] as const

    for (const k of kinds) {
      it(`fail/${k.what}: the same code, status and message before and after deletion`, async () => {
        // Prepare
        const env = await setup()
        const { kind } = k.doc
        await env.h.service.deps.resources.create({ version: 'v1', ...k.doc })
        const attempt = () =>
          request(env, k.roles, k.route).then(
            () => assert.fail('must be refused'),
            (err: { code: string; status: number; message: string }) => err,
          )
        // Act
        const hidden = await attempt()
        await env.h.service.deps.resources.delete(kind, 'secret')
        const missing = await attempt()
        // Assess
        const view = (e: { code: string; status: number; message: string }) => [e.code, e.status, e.message]
        assert.deepEqual(view(hidden), ['ERR_NOT_FOUND', 404, `${k.what} "secret" not found`])
        assert.deepEqual(view(missing), view(hidden))
      })
    }

    it('fail/an invisible resource is a refusal in the audit log', async () => {
      const env = await setup()
      await request(env, ['db-no-rules'], { database: { service: 'example', username: 'alice' } }).catch(
        () => undefined,
      )
      const events = await audits(env.h)
      assert.deepEqual(
        events.map((e) => e.success),
        [false],
      )
    })
  })
})
