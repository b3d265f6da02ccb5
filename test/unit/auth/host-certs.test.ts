/**
 * OpenSSH host certificates (lib/auth/host-certs.ts) through the real auth app:
 * `POST /v1/certs/host` from a joined bot, checked with `ssh-keygen -L` against the host CA key of
 * `/v1/cas`; and the `host_cert` rule resource that grants it (lib/resources/role.ts).
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import type { ClientIdentity } from '../../../lib/bot/auth-client.ts'
import type { BrokerErrorCode } from '../../../lib/errors.ts'
import { validateResource } from '../../../lib/resources/parse.ts'
import { RULE_RESOURCES } from '../../../lib/resources/role.ts'
import type { Role } from '../../../lib/resources/types.ts'
import { type AuthHarness, authHarness, joinedBot, newKey } from '../../helpers/auth-harness.ts'
import { sshKeygenList } from '../../helpers/sshd.ts'
import { assertFails } from '../resources/cases.ts'

const HOST_CERT_CREATE = { resources: ['host_cert'], verbs: ['create'] }

/** Role specs by name (`access`, with logins and a node rule only, comes from examples/cluster). */
const ROLES: Record<string, { allow?: object; deny?: object }> = {
  'host-issuer': { allow: { rules: [HOST_CERT_CREATE] } },
  'host-everything': { allow: { rules: [{ resources: ['*'], verbs: ['*'] }] } },
  'host-reader': { allow: { rules: [{ resources: ['host_cert'], verbs: ['read', 'list'] }] } },
  'host-deny': { deny: { rules: [HOST_CERT_CREATE] } },
  'host-deny-any-create': { deny: { rules: [{ resources: ['*'], verbs: ['create'] }] } },
}

interface Env {
  readonly h: AuthHarness
  readonly bot: ClientIdentity
}

/** A fresh auth service with the roles above; bot `example` may impersonate `botRoles`. */
async function setup(botRoles: readonly string[]): Promise<Env> {
  const h = await authHarness()
  for (const [name, spec] of Object.entries(ROLES)) {
    await h.service.deps.resources.create({ kind: 'role', version: 'v1', metadata: { name }, spec })
  }
  const { identity } = await joinedBot(h, botRoles)
  return { h, bot: identity }
}

const hostCert = (env: Env, roles: readonly string[], principals: readonly string[], as = env.bot) =>
  env.h.client.hostCerts(as, {
    publicKeyPem: newKey('ed25519').publicPem,
    roles,
    principals,
    ttlSeconds: 3600,
  })

const audits = async (h: AuthHarness) =>
  (await h.store.list('audit/')).items
    .map((i) => JSON.parse(i.value) as Record<string, unknown>)
    .filter((e) => e.type === 'host_cert.issued')

/** `SHA256:…` as ssh-keygen prints it, for an authorized_keys line. */
const fingerprint = (line: string) =>
  `SHA256:${createHash('sha256')
    .update(Buffer.from(line.split(' ')[1] ?? '', 'base64'))
    .digest('base64')
    .replace(/=+$/, '')}`

/** ssh-keygen prints validity (TZ=UTC) to the second, without a zone. */
const keygenTime = (iso: string) => iso.replace(/\.\d{3}Z$/, '')

const refusal = async (promise: Promise<unknown>) =>
  promise.then(
    () => assert.fail('the request must be refused'),
    (err: { code: BrokerErrorCode; status: number; message: string }) => ({
      code: err.code,
      status: err.status,
      message: err.message,
    }),
  )

describe('Function: issueHostCertificate (POST /v1/certs/host)', () => {
  const allowed = [
    {
      name: 'ok/a role with rule host_cert create: an OpenSSH host certificate from the host CA',
      botRoles: ['access', 'host-issuer'],
      roles: ['host-issuer'],
      principals: ['localhost', '127.0.0.1', '::1', 'web.test.local', '*.test.local'],
      audited: ['host-issuer'],
    },
    {
      name: 'ok/roles omitted: every role the bot may impersonate, one of which grants it',
      botRoles: ['access', 'host-issuer'],
      roles: [],
      principals: ['node-1.test.local'],
      audited: ['access', 'host-issuer'],
    },
  ]
  for (const c of allowed) {
    it(c.name, async () => {
      // Prepare
      const env = await setup(c.botRoles)
      // Act
      const res = await hostCert(env, c.roles, c.principals)
      // Assess
      const cas = await env.h.client.cas()
      const hostCa = cas.ssh.host[0] as string
      const listing = await sshKeygenList(res.ssh_host_cert)
      assert.match(listing, /Type: ssh-ed25519-cert-v01@openssh\.com host certificate\n/)
      assert.match(listing, new RegExp(`Signing CA: ED25519 ${fingerprint(hostCa).replace(/\+/g, '\\+')} `))
      assert.notEqual(fingerprint(hostCa), fingerprint(cas.ssh.user[0] as string))
      assert.match(listing, new RegExp(`Key ID: "${c.principals[0]?.replace(/\*/g, '\\*')}"\n`))
      const principals = /Principals: \n((?:\s{16}\S+\n)+)/.exec(listing)?.[1]?.trim().split(/\s+/)
      assert.deepEqual(principals, c.principals)
      assert.match(listing, /Critical Options: \(none\)\n\s+Extensions: \(none\)/)
      assert.match(
        listing,
        new RegExp(`Valid: from ${keygenTime(res.not_before)} to ${keygenTime(res.not_after)}\n`),
      )
      assert.deepEqual(res.principals, c.principals)
      assert.match(listing, new RegExp(`Serial: ${BigInt(`0x${res.serial}`)}\n`))
      // the known_hosts line of /v1/cas names the same key
      assert.ok(cas.known_hosts.includes(` ${hostCa.split(' ').slice(0, 2).join(' ')}`))
      const events = await audits(env.h)
      assert.deepEqual(
        events.map((e) => ({
          success: e.success,
          user: e.user,
          roles: e.roles,
          principals: e.principals,
          serial: e.serial,
        })),
        [
          {
            success: true,
            user: 'bot-example',
            roles: c.audited,
            principals: c.principals,
            serial: res.serial,
          },
        ],
      )
    })
  }

  const refused = [
    {
      name: 'fail/a rule on * with verb * is not enough: host certificates need a rule naming host_cert',
      botRoles: ['host-everything'],
      roles: ['host-everything'],
      message:
        'host-everything may not create host certificates: no role has a rule naming host_cert (a * rule does not count)',
    },
    {
      name: 'fail/without a host_cert rule',
      botRoles: ['access', 'host-issuer'],
      roles: ['access'],
      message: 'access may not create host certificates: no role allows create on host_cert',
    },
    {
      name: 'fail/read and list on host_cert are not create',
      botRoles: ['host-reader'],
      roles: ['host-reader'],
      message: 'host-reader may not create host certificates: no role allows create on host_cert',
    },
    {
      name: 'fail/a deny rule refuses what another role allows',
      botRoles: ['host-issuer', 'host-deny'],
      roles: ['host-issuer', 'host-deny'],
      message:
        'host-issuer, host-deny may not create host certificates: role "host-deny" denies create on host_cert',
    },
    {
      name: 'fail/a deny rule on * create refuses it too',
      botRoles: ['host-everything', 'host-deny-any-create'],
      roles: ['host-everything', 'host-deny-any-create'],
      message:
        'host-everything, host-deny-any-create may not create host certificates: role "host-deny-any-create" denies create on host_cert',
    },
    {
      name: 'fail/a role the bot may not impersonate',
      botRoles: ['access'],
      roles: ['host-issuer'],
      message: 'bot-example may not impersonate host-issuer: no role allows impersonating "host-issuer"',
    },
  ]
  for (const c of refused) {
    it(c.name, async () => {
      // Prepare
      const env = await setup(c.botRoles)
      // Act
      const outcome = await refusal(hostCert(env, c.roles, ['localhost']))
      // Assess
      assert.deepEqual(outcome, { code: 'ERR_ACCESS_DENIED', status: 403, message: c.message })
      assert.deepEqual(
        (await audits(env.h)).map((e) => ({ success: e.success, roles: e.roles, reason: e.reason })),
        [{ success: false, roles: c.roles, reason: c.message }],
      )
    })
  }

  const locks = [
    { target: { user: 'bot-example' }, describes: 'user "bot-example"' },
    { target: { role: 'host-issuer' }, describes: 'role "host-issuer"' },
  ]
  for (const lock of locks) {
    it(`fail/a lock on ${lock.describes} refuses it`, async () => {
      // Prepare
      const env = await setup(['host-issuer'])
      await env.h.service.deps.resources.create({
        kind: 'lock',
        version: 'v1',
        metadata: { name: 'incident-7' },
        spec: { target: lock.target, message: 'incident 7' },
      })
      // Act
      const outcome = await refusal(hostCert(env, ['host-issuer'], ['localhost']))
      // Assess
      const message = `lock targeting ${lock.describes} is in force: incident 7`
      assert.deepEqual(outcome, { code: 'ERR_ACCESS_DENIED', status: 403, message })
      assert.deepEqual(
        (await audits(env.h)).map((e) => ({ success: e.success, reason: e.reason })),
        [{ success: false, reason: message }],
      )
    })
  }

  it('fail/an impersonated identity cannot obtain host certificates (disallow-reissue)', async () => {
    // Prepare
    const env = await setup(['access', 'host-issuer'])
    const key = newKey()
    const issued = await env.h.client.certs(env.bot, {
      publicKeyPem: key.publicPem,
      roles: ['host-issuer'],
      ttlSeconds: 600,
    })
    const impersonated = { key: key.key, tlsCertPem: issued.tls_cert }
    // Act
    const outcome = await refusal(hostCert(env, ['host-issuer'], ['localhost'], impersonated))
    // Assess
    const message = 'this identity is not allowed to reissue certificates'
    assert.deepEqual(outcome, { code: 'ERR_ACCESS_DENIED', status: 403, message })
    assert.deepEqual(
      (await audits(env.h)).map((e) => ({ success: e.success, user: e.user, reason: e.reason })),
      [{ success: false, user: 'bot-example', reason: message }],
    )
  })

  const badPrincipals = [
    '...',
    ':',
    '::::',
    'a..b',
    '.test.local',
    'Localhost',
    '*',
    '*.',
    'web.*.test.local',
    'fe80::1%eth0',
    'host name',
    '-web.test.local',
    'web_1.test.local',
    '1.2.3.4:22',
  ]
  for (const principal of badPrincipals) {
    it(`fail/principal ${JSON.stringify(principal)} is a bad request, before any policy check`, async () => {
      // Prepare
      const env = await setup(['host-issuer'])
      // Act
      const outcome = await refusal(hostCert(env, ['host-issuer'], ['localhost', principal]))
      // Assess
      assert.deepEqual(outcome, {
        code: 'ERR_BAD_REQUEST',
        status: 400,
        message: `"${principal}" is not a host name or address`,
      })
      assert.deepEqual(await audits(env.h), [])
    })
  }

  it('fail/no principals is a bad request', async () => {
    const env = await setup(['host-issuer'])
    const outcome = await refusal(hostCert(env, ['host-issuer'], []))
    assert.equal(outcome.code, 'ERR_BAD_REQUEST')
    assert.equal(outcome.status, 400)
    assert.deepEqual(await audits(env.h), [])
  })
})

describe('Schema: role rules naming host_cert', () => {
  it('ok/a rule on host_cert with verb create validates', () => {
    const role = validateResource({
      kind: 'role',
      version: 'v1',
      metadata: { name: 'ssh-host-output' },
      spec: {
        allow: { rules: [HOST_CERT_CREATE] },
        deny: { rules: [{ resources: ['host_cert'], verbs: ['*'] }] },
      },
    }) as Role
    assert.deepEqual(role.spec.allow.rules, [HOST_CERT_CREATE])
    assert.deepEqual(role.spec.deny.rules, [{ resources: ['host_cert'], verbs: ['*'] }])
    assert.ok(RULE_RESOURCES.includes('host_cert'))
  })

  it('fail/a misspelt kind (host_certs) is refused, naming the field', () => {
    assertFails(
      () =>
        validateResource({
          kind: 'role',
          version: 'v1',
          metadata: { name: 'typo' },
          spec: { allow: { rules: [{ resources: ['host_certs'], verbs: ['create'] }] } },
        }),
      {
        field: 'spec.allow.rules[0].resources[0]',
        message: /unknown resource kind; expected one of: .*host_cert/,
      },
    )
  })
})
