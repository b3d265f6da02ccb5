import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { beforeEach, describe, it } from 'node:test'
import { addBot, addJoinToken } from '../../lib/auth/bots.ts'
import { decodeIdentity } from '../../lib/identity/x509-encoding.ts'
import {
  type AuthHarness,
  authHarness,
  BASE_URL,
  joinedBot,
  newKey,
  rejects,
} from '../helpers/auth-harness.ts'

describe('auth API: join, impersonation, renewal', () => {
  let h: AuthHarness
  beforeEach(async () => {
    h = await authHarness()
  })

  it('ok/bots add creates a bot whose token joins', async () => {
    const { token } = await addBot(h.service.deps, 'admin', { name: 'ci', roles: ['access'] })
    const res = await h.client.join(token, newKey().publicPem, 3600)
    assert.equal(res.identity.user, 'bot-ci')
  })

  it('ok/ping and CA bundle are public', async () => {
    const ping = await h.client.ping()
    assert.equal(ping.cluster_name, 'test.local')
    const cas = await h.client.cas()
    assert.equal(cas.tls.user.length, 1)
    assert.match(cas.known_hosts, /^@cert-authority test\.local,\*\.test\.local ssh-ed25519 /)
    const jwks = (await (await h.fetch(`${BASE_URL}/.well-known/jwks.json`)).json()) as {
      keys: { kty: string }[]
    }
    assert.equal(jwks.keys[0]?.kty, 'EC')
  })

  it('ok/token join yields a renewable bot identity with generation 1 and a bot instance', async () => {
    const { response } = await joinedBot(h)
    assert.deepEqual(response.identity.roles, ['bot-example'])
    assert.equal(response.identity.renewable, true)
    assert.equal(response.identity.generation, 1)
    const id = decodeIdentity(new X509Certificate(response.tls_cert).raw)
    assert.equal(id.botInstanceId, response.identity.bot_instance_id)
    const instance = await h.service.deps.resources.get('bot_instance', `example/${id.botInstanceId}`)
    assert.equal(instance.status.generation, 1)
  })

  it('fail/a reused token is refused', async () => {
    const { token } = await joinedBot(h)
    await rejects(
      h.client.join(token, newKey().publicPem, 3600),
      'ERR_UNAUTHENTICATED',
      401,
      /invalid, expired or already used/,
    )
  })

  it('fail/concurrent joins with one token: exactly one succeeds', async () => {
    const { token } = await addJoinToken(h.service.deps, 'example')
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => h.client.join(token, newKey().publicPem, 3600)),
    )
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
  })

  it('fail/an expired token is refused', async () => {
    const { token } = await addJoinToken(h.service.deps, 'example')
    h.clock.advance(3600_000)
    await rejects(h.client.join(token, newKey().publicPem, 3600), 'ERR_UNAUTHENTICATED', 401)
  })

  it('fail/a locked bot cannot join', async () => {
    const { token } = await addJoinToken(h.service.deps, 'example')
    await h.service.deps.resources.create({
      kind: 'lock',
      version: 'v1',
      metadata: { name: 'l1', labels: {} },
      spec: { target: { user: 'bot-example' }, message: 'incident 42' },
    })
    await rejects(
      h.client.join(token, newKey().publicPem, 3600),
      'ERR_ACCESS_DENIED',
      403,
      /lock targeting user "bot-example" is in force: incident 42/,
    )
  })

  it('ok/impersonated certificates carry only the requested roles and their logins', async () => {
    const { identity } = await joinedBot(h)
    const out = newKey()
    const res = await h.client.certs(identity, {
      publicKeyPem: out.publicPem,
      roles: ['access'],
      ttlSeconds: 3600,
    })
    assert.deepEqual(res.identity.roles, ['access'])
    assert.deepEqual(res.identity.logins, ['alice', 'credbroker'])
    assert.equal(res.identity.disallow_reissue, true)
    assert.equal(res.identity.impersonator, 'bot-example')
    assert.match(res.ssh_cert ?? '', /^ecdsa-sha2-nistp256-cert-v01@openssh\.com /)
  })

  it('ok/an empty role list means every role the bot may impersonate', async () => {
    const { identity } = await joinedBot(h)
    const res = await h.client.certs(identity, {
      publicKeyPem: newKey().publicPem,
      roles: [],
      ttlSeconds: 3600,
    })
    assert.deepEqual([...res.identity.roles].sort(), ['access', 'machine-id-db'])
  })

  it('ok/TTL is clamped by the role max_session_ttl and the bot identity expiry', async () => {
    const { identity, response } = await joinedBot(h)
    const res = await h.client.certs(identity, {
      publicKeyPem: newKey().publicPem,
      roles: ['access'],
      ttlSeconds: 24 * 3600,
    })
    assert.equal(res.not_after, response.not_after) // bot identity (1h) < role max (8h)
    h.clock.advance(30 * 60_000)
    const later = await h.client.certs(identity, {
      publicKeyPem: newKey().publicPem,
      roles: ['access'],
      ttlSeconds: 3600,
    })
    assert.equal(later.not_after, response.not_after)
  })

  it('fail/a role not covered by the impersonate rules is refused', async () => {
    const { identity } = await joinedBot(h, ['access'])
    await rejects(
      h.client.certs(identity, {
        publicKeyPem: newKey().publicPem,
        roles: ['machine-id-db'],
        ttlSeconds: 3600,
      }),
      'ERR_ACCESS_DENIED',
      403,
      /may not impersonate machine-id-db/,
    )
  })

  it('fail/an impersonated identity cannot request more certificates', async () => {
    const { identity } = await joinedBot(h)
    const out = newKey()
    const res = await h.client.certs(identity, {
      publicKeyPem: out.publicPem,
      roles: ['access'],
      ttlSeconds: 3600,
    })
    const impersonated = { key: out.key, tlsCertPem: res.tls_cert }
    await rejects(
      h.client.certs(impersonated, { publicKeyPem: newKey().publicPem, roles: ['access'], ttlSeconds: 3600 }),
      'ERR_ACCESS_DENIED',
      403,
      /not allowed to reissue/,
    )
  })

  it('ok/renewal bumps the generation; fail/presenting the old generation locks the instance', async () => {
    const { identity, response } = await joinedBot(h)
    const next = newKey()
    const renewed = await h.client.renew(identity, next.publicPem, 3600)
    assert.equal(renewed.identity.generation, 2)
    // A second holder of the generation-1 certificate renews: theft detected.
    await rejects(
      h.client.renew(identity, newKey().publicPem, 3600),
      'ERR_ACCESS_DENIED',
      403,
      /generation mismatch .* stored=2, presented=1/,
    )
    const locks = await h.service.deps.resources.list('lock')
    assert.equal(locks.items.length, 1)
    assert.match(
      locks.items[0]?.spec.message ?? '',
      new RegExp(
        `^The bot instance example/${response.identity.bot_instance_id} has been locked due to a certificate generation mismatch, possibly indicating a stolen certificate\\.$`,
      ),
    )
    // The lock now stops the legitimate holder too, until an operator intervenes.
    await rejects(
      h.client.certs(
        { key: next.key, tlsCertPem: renewed.tls_cert },
        { publicKeyPem: newKey().publicPem, roles: [], ttlSeconds: 600 },
      ),
      'ERR_ACCESS_DENIED',
      403,
      /lock targeting bot instance/,
    )
  })

  it('fail/errors are JSON {code, message} without stack traces', async () => {
    const res = await h.fetch(`${BASE_URL}/v1/join`, {
      method: 'POST',
      body: '{not json',
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(res.status, 400)
    assert.deepEqual(await res.json(), { code: 'ERR_BAD_REQUEST', message: 'the request body must be JSON' })
    const big = await h.fetch(`${BASE_URL}/v1/join`, { method: 'POST', body: 'x'.repeat(70_000) })
    assert.equal(big.status, 413)
    assert.equal(((await big.json()) as { code: string }).code, 'ERR_TOO_LARGE')
    const missing = await h.fetch(`${BASE_URL}/v1/nothing`)
    assert.equal(missing.status, 404)
    const unauth = await h.fetch(`${BASE_URL}/v1/certs`, { method: 'POST', body: '{}' })
    assert.equal(unauth.status, 401)
    assert.equal(((await unauth.json()) as { code: string }).code, 'ERR_UNAUTHENTICATED')
  })
})
