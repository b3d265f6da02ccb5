/**
 * The CA rotation API (`GET/POST /v1/ca/rotation`) through the HTTP app, with an administrator
 * minted by `issueAdminIdentity` and proof of possession on every call: steps and the status
 * they return, refused steps, who may call it, what `/v1/cas`, `/v1/ping` and the JWKS publish
 * while a rotation is in progress, and a bot identity from the old key through the rotation.
 */
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { beforeEach, describe, it } from 'node:test'
import type { ClientIdentity } from '../../lib/bot/auth-client.ts'
import type { RotationStatus } from '../../lib/ca/rotation.ts'
import {
  type AuthHarness,
  adminIdentity,
  authHarness,
  BASE_URL,
  joinedBot,
  newKey,
  recordingClient,
  rejects,
} from '../helpers/auth-harness.ts'

describe('CA rotation API', () => {
  let h: AuthHarness
  let admin: ClientIdentity
  let api: ReturnType<typeof recordingClient>
  const rotate = (body: Record<string, unknown>, as: ClientIdentity = admin) =>
    api.client.request<RotationStatus>(as, 'POST', '/v1/ca/rotation', body)
  const status = async (as: ClientIdentity = admin) => {
    const { cas } = await api.client.request<{ cas: RotationStatus[] }>(as, 'GET', '/v1/ca/rotation')
    return new Map(cas.map((s) => [s.type, s]))
  }

  beforeEach(async () => {
    h = await authHarness()
    admin = await adminIdentity(h)
    api = recordingClient(h)
  })

  it('ok/GET lists every CA in standby with its signing fingerprints', async () => {
    const cas = await status()
    assert.equal(api.lastStatus(), 200)
    assert.deepEqual([...cas.keys()].sort(), ['db', 'host', 'jwt', 'user'])
    const user = cas.get('user')
    assert.equal(user?.phase, 'standby')
    assert.equal(user?.mode, 'manual')
    assert.match(user?.active.tls ?? '', /^[0-9a-f]{64}$/)
    assert.match(user?.active.ssh ?? '', /^SHA256:/)
    assert.deepEqual(user?.trusted, [user?.active])
    assert.match(cas.get('jwt')?.active.jwt ?? '', /.+/)
  })

  it('ok/POST steps the user CA through every phase and returns its status', async () => {
    const before = (await status()).get('user')
    assert.ok(before)

    // No phase: the next one on the forward path.
    const init = await rotate({ type: 'user' })
    assert.equal(api.lastStatus(), 200)
    assert.equal(init.phase, 'init')
    assert.equal(init.type, 'user')
    assert.deepEqual(init.active, before.active, 'init: the old key still signs')
    assert.equal(init.trusted.length, 2)
    assert.ok(init.started_at)

    const clients = await rotate({ type: 'user', phase: 'update_clients' })
    assert.equal(clients.phase, 'update_clients')
    assert.notDeepEqual(clients.active, before.active, 'update_clients: the new key signs')
    assert.equal(clients.trusted.length, 2)
    assert.deepEqual((await status()).get('user')?.phase, 'update_clients', 'GET reports the step')

    const servers = await rotate({ type: 'user', phase: 'update_servers' })
    assert.equal(servers.phase, 'update_servers')
    assert.deepEqual(servers.active, clients.active)

    // Ending the rotation waits one grace period (default 30h) after the signer changed.
    await rejects(rotate({ type: 'user', phase: 'standby' }), 'ERR_ROTATION_PHASE', 409, /force the step/)
    h.clock.advance(30 * 3600_000)
    const settledAdmin = await adminIdentity(h) // the first one expired meanwhile
    const done = await rotate({ type: 'user', phase: 'standby' }, settledAdmin)
    assert.equal(done.phase, 'standby')
    assert.deepEqual(done.trusted, [clients.active], 'standby: only the new key is trusted')
    assert.ok(done.last_rotated_at)
    assert.equal(done.started_at, undefined)

    // The administrator's certificate came from the retired key: a new one is needed now.
    await rejects(status(), 'ERR_UNAUTHENTICATED', 401)
    const renewed = await adminIdentity(h)
    assert.equal((await status(renewed)).get('user')?.phase, 'standby')
    assert.equal((await status(renewed)).get('host')?.phase, 'standby', 'the other CAs did not move')
  })

  it('ok/POST with manual=false and a grace period reports the automatic next step', async () => {
    const init = await rotate({ type: 'user', manual: false, grace_period_seconds: 3600 })
    assert.equal(init.mode, 'auto')
    assert.equal(init.grace_period_seconds, 3600)
    assert.equal(init.next_phase, 'update_clients')
    assert.equal(init.next_phase_at, new Date(h.clock.now().getTime() + 3600_000).toISOString())
  })

  it('fail/a step the phase does not allow is 409 ERR_ROTATION_PHASE and changes nothing', async () => {
    await rejects(
      rotate({ type: 'user', phase: 'update_servers' }),
      'ERR_ROTATION_PHASE',
      409,
      /phase standby; it can go to init, not update_servers/,
    )
    await rotate({ type: 'user', phase: 'init' })
    await rejects(rotate({ type: 'user', phase: 'standby' }), 'ERR_ROTATION_PHASE', 409)
    await rejects(rotate({ type: 'user', phase: 'init' }), 'ERR_ROTATION_PHASE', 409)
    const user = (await status()).get('user')
    assert.equal(user?.phase, 'init')
    assert.equal(user?.trusted.length, 2)
  })

  it('fail/an unknown phase, CA type or field is 400 ERR_BAD_REQUEST', async () => {
    await rejects(rotate({ type: 'user', phase: 'finished' }), 'ERR_BAD_REQUEST', 400)
    await rejects(rotate({ type: 'ssh' }), 'ERR_BAD_REQUEST', 400)
    await rejects(rotate({ type: 'user', grace_period_seconds: 5 }), 'ERR_BAD_REQUEST', 400)
    await rejects(rotate({ type: 'user', hurry: true }), 'ERR_BAD_REQUEST', 400)
    assert.equal((await status()).get('user')?.phase, 'standby')
  })

  it('fail/a bot identity (no cert_authority rule) is 403 on GET and POST', async () => {
    const { identity: bot } = await joinedBot(h)
    await rejects(status(bot), 'ERR_ACCESS_DENIED', 403, /bot-example may not read cert_authority/)
    await rejects(rotate({ type: 'user' }, bot), 'ERR_ACCESS_DENIED', 403, /may not update cert_authority/)
    assert.equal((await status()).get('user')?.phase, 'standby')
  })

  it('fail/an unauthenticated request is 401 on GET and POST', async () => {
    const get = await h.fetch(`${BASE_URL}/v1/ca/rotation`)
    assert.equal(get.status, 401)
    assert.equal(((await get.json()) as { code: string }).code, 'ERR_UNAUTHENTICATED')
    const post = await h.fetch(`${BASE_URL}/v1/ca/rotation`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'user', phase: 'init' }),
    })
    assert.equal(post.status, 401)
    assert.equal(((await post.json()) as { code: string }).code, 'ERR_UNAUTHENTICATED')
    assert.equal((await status()).get('user')?.phase, 'standby')
  })

  it('ok//v1/cas, /v1/ping and the JWKS list both keys of every CA while it rotates', async () => {
    const before = await h.client.cas()
    for (const type of ['user', 'host', 'jwt'] as const) await rotate({ type, phase: 'init' })
    for (const phase of ['init', 'update_clients', 'update_servers'] as const) {
      if (phase !== 'init') await rotate({ type: 'user', phase })
      const cas = await h.client.cas()
      assert.equal(cas.tls.user.length, 2, `${phase}: tls.user`)
      assert.equal(cas.ssh.user.length, 2, `${phase}: ssh.user`)
      assert.ok(
        cas.tls.user.includes(before.tls.user[0] as string),
        `${phase}: the old TLS key is still there`,
      )
      assert.ok(
        cas.ssh.user.includes(before.ssh.user[0] as string),
        `${phase}: the old SSH key is still there`,
      )
      assert.equal(cas.rotation?.user?.phase, phase)
      assert.equal(cas.tls.host.length, 2)
      assert.equal(cas.known_hosts.trim().split('\n').length, 2, 'known_hosts: both host CA keys')
      assert.match(cas.known_hosts, /^@cert-authority test\.local,\*\.test\.local /m)
      assert.equal(cas.jwks.keys.length, 2)
      const ping = (await (await h.fetch(`${BASE_URL}/v1/ping`)).json()) as {
        ca_fingerprints: Record<string, string[]>
        rotation: Record<string, { phase: string; tls?: string }>
      }
      assert.equal(ping.ca_fingerprints.user?.length, 2, `${phase}: ping lists both user CA certificates`)
      assert.equal(ping.rotation.user?.phase, phase)
      assert.ok(ping.ca_fingerprints.user?.includes(ping.rotation.user?.tls ?? ''), 'the signer is listed')
      const jwks = (await (await h.fetch(`${BASE_URL}/.well-known/jwks.json`)).json()) as { keys: unknown[] }
      assert.equal(jwks.keys.length, 2)
    }
    await rotate({ type: 'user', phase: 'standby', force: true })
    const after = await h.client.cas()
    assert.equal(after.tls.user.length, 1)
    assert.equal(after.ssh.user.length, 1)
    assert.ok(!after.tls.user.includes(before.tls.user[0] as string), 'the old TLS key is gone')
  })

  it('ok/a bot identity from the old key authenticates during update_clients and is refused after standby', async () => {
    const { identity: bot } = await joinedBot(h)
    const certs = () =>
      h.client.certs(bot, { publicKeyPem: newKey().publicPem, roles: ['access'], ttlSeconds: 600 })
    await rotate({ type: 'user', phase: 'init' })
    await rotate({ type: 'user', phase: 'update_clients' })

    const during = await certs()
    const signer = (await status()).get('user')?.active.tls
    assert.ok(signer)
    assert.equal(fingerprintOfIssuer(during.tls_cert, h), signer, 'issued by the new key')

    await rotate({ type: 'user', phase: 'update_servers' })
    await certs()
    const newAdmin = await adminIdentity(h)
    await rotate({ type: 'user', phase: 'standby', force: true }, newAdmin)
    await rejects(certs(), 'ERR_UNAUTHENTICATED', 401)
  })
})

/** SHA-256 (hex) of the trusted user CA certificate whose key signed `pem`. */
function fingerprintOfIssuer(pem: string, h: AuthHarness): string | undefined {
  const leaf = new X509Certificate(pem)
  const ca = h.service.deps.cas.user.trustedTlsCerts.find((c) => leaf.verify(c.publicKey))
  return ca?.fingerprint256.replaceAll(':', '').toLowerCase()
}
