/**
 * Audit events that may trigger a reissue are published to the auth service's event sink (a
 * memory sink here): a lock's removal and a role's creation, change and removal through the admin
 * API; other events (a lock's creation, a bot added) are stored and logged only. A sink that fails
 * never fails the request: the change stands and the failure is a warning.
 */
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { describe, it } from 'node:test'
import { MemoryEventSink } from '../../lib/adapters/memory/event-sink.ts'
import { MemoryKeyStore } from '../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../lib/adapters/memory/store.ts'
import { issueAdminIdentity } from '../../lib/auth/admin.ts'
import { parseCallerPublicKey } from '../../lib/auth/public-key.ts'
import { createAuthService } from '../../lib/auth/service.ts'
import { AuthClient, type ClientIdentity } from '../../lib/bot/auth-client.ts'
import { generateClientKey } from '../../lib/bot/keys.ts'
import { loadDocuments } from '../../lib/cli/load-documents.ts'
import { ManualClock } from '../../lib/clock.ts'
import { UpstreamUnavailableError } from '../../lib/errors.ts'
import { createLogger } from '../../lib/log.ts'
import { cryptoRandom } from '../../lib/random.ts'
import type { Lock, Role } from '../../lib/resources/types.ts'
import { applyResources } from '../../lib/services/apply.ts'

const BASE_URL = 'http://auth.test'

async function serviceWithSink() {
  const clock = new ManualClock(Date.UTC(2026, 10, 22, 12))
  const events = new MemoryEventSink()
  const lines: string[] = []
  const service = await createAuthService({
    clusterName: 'test.local',
    publicAddr: BASE_URL,
    store: new MemoryStore({ clock }),
    keys: new MemoryKeyStore(),
    clock,
    random: cryptoRandom,
    log: createLogger('info', (line) => lines.push(line)),
    events,
  })
  await applyResources(service.deps.resources, loadDocuments(resolve('examples/cluster')))
  const client = new AuthClient({
    baseUrl: BASE_URL,
    fetch: async (url, init) => service.app.request(String(url), init),
    clock,
  })
  const key = generateClientKey()
  const certs = await issueAdminIdentity(service.deps, parseCallerPublicKey(key.publicPem), 3600_000)
  const admin: ClientIdentity = { key: key.privateKey, tlsCertPem: certs.tlsCertPem }
  return { events, lines, client, admin }
}

describe('audit events published to the event sink', () => {
  it('ok/a lock removal is published with who and which lock; its creation is not', async () => {
    const { events, client, admin } = await serviceWithSink()
    const lock = await client.request<Lock>(admin, 'POST', '/v1/locks', { target: { user: 'bot-ci' } })
    assert.equal(events.events.length, 0, 'lock.created triggers nothing')
    await client.request(admin, 'DELETE', `/v1/resources/lock/${lock.metadata.name}`)
    assert.equal(events.events.length, 1)
    const [event] = events.events
    assert.equal(event?.type, 'lock.deleted')
    assert.deepEqual(
      { ...event?.detail, user: typeof event?.detail.user },
      {
        lock: lock.metadata.name,
        target: 'user "bot-ci"',
        message: '',
        expires: null,
        user: 'string',
        success: true,
        time: '2026-11-22T12:00:00.000Z',
      },
    )
  })

  it('ok/role creation, update and removal are audited and published', async () => {
    const { events, client, admin } = await serviceWithSink()
    const role = await client.request<Role>(admin, 'GET', '/v1/resources/role/access')
    await client.request(admin, 'PUT', '/v1/resources/role/access', {
      ...role,
      spec: { ...role.spec, options: { ...role.spec.options } },
      metadata: { ...role.metadata, labels: { changed: 'yes' } },
    })
    const created = { ...role, metadata: { name: 'extra', labels: {} } }
    await client.request(admin, 'POST', '/v1/resources', created)
    await client.request(admin, 'DELETE', '/v1/resources/role/extra')
    assert.deepEqual(
      events.events.map((e) => [e.type, e.detail.role]),
      [
        ['role.updated', 'access'],
        ['role.created', 'extra'],
        ['role.deleted', 'extra'],
      ],
    )
  })

  it('ok/other events (a bot added, a lock updated) publish nothing', async () => {
    const { events, client, admin } = await serviceWithSink()
    await client.request(admin, 'POST', '/v1/bots', { name: 'ci', roles: ['access'] })
    const lock = await client.request<Lock>(admin, 'POST', '/v1/locks', { target: { user: 'bot-ci' } })
    await client.request(admin, 'PUT', `/v1/resources/lock/${lock.metadata.name}`, {
      ...lock,
      spec: { ...lock.spec, message: 'reworded' },
    })
    assert.deepEqual(events.events, [])
  })

  it('ok/a sink that fails: the lock is still removed, the failure is a warning', async () => {
    const { events, lines, client, admin } = await serviceWithSink()
    const lock = await client.request<Lock>(admin, 'POST', '/v1/locks', { target: { user: 'bot-ci' } })
    events.failWith = () => new UpstreamUnavailableError('EventBridge is unreachable')
    const removed = await client.request<{ ok: boolean }>(
      admin,
      'DELETE',
      `/v1/resources/lock/${lock.metadata.name}`,
    )
    assert.deepEqual(removed, { ok: true })
    await assert.rejects(client.request(admin, 'GET', `/v1/resources/lock/${lock.metadata.name}`), {
      code: 'ERR_NOT_FOUND',
    })
    assert.ok(
      lines.some((l) => /could not publish audit lock\.deleted/.test(l) && /unreachable/.test(l)),
      lines.join('\n'),
    )
  })
})
