/**
 * Server-side renewal rules (lib/auth/renew.ts, renew-decision.ts): the generation check, and
 * its idempotency per (bot instance, presented generation, request id, public key) that lets a
 * bot retry a renewal whose answer it lost, while a second holder is still locked out.
 */
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { beforeEach, describe, it } from 'node:test'
import type { Caller } from '../../../lib/auth/caller.ts'
import { recordHeartbeat } from '../../../lib/auth/heartbeat.ts'
import { parseCallerPublicKey } from '../../../lib/auth/public-key.ts'
import { renewBotIdentity } from '../../../lib/auth/renew.ts'
import { decideRenewal, type RenewalAttempt } from '../../../lib/auth/renew-decision.ts'
import { RevisionMismatchError } from '../../../lib/errors.ts'
import { decodeIdentity } from '../../../lib/identity/x509-encoding.ts'
import type { BotInstance } from '../../../lib/resources/types.ts'
import type { ResourceService } from '../../../lib/services/resource-service.ts'
import { type AuthHarness, authHarness, joinedBot, newKey } from '../../helpers/auth-harness.ts'

const R1 = 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1'
const R2 = 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2'
const R3 = 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3'

const LOCK_MESSAGE = (id: string) =>
  `The bot instance example/${id} has been locked due to a certificate generation mismatch, possibly indicating a stolen certificate.`

type Failure = { code?: string; status?: number; message: string }

async function rejects(promise: Promise<unknown>, code: string, message: RegExp | string) {
  await assert.rejects(promise, (err: Failure) => {
    assert.equal(err.code, code, err.message)
    if (typeof message === 'string') assert.equal(err.message, message)
    else assert.match(err.message, message)
    return true
  })
}

const mismatch = (id: string, stored: number, presented: number) =>
  `renewable cert generation mismatch for bot example/${id}: stored=${stored}, presented=${presented}`

function instance(generation: number, last?: { id: string; key: string; generation?: number }): BotInstance {
  return {
    kind: 'bot_instance',
    version: 'v1',
    metadata: { name: 'i', labels: {} },
    spec: { bot_name: 'example', instance_id: 'i' },
    status: {
      generation,
      ...(last && {
        last_renewal: {
          request_id: last.id,
          generation: last.generation ?? generation,
          public_key_fingerprint: last.key,
          not_after: '2026-01-01T01:00:00.000Z',
          committed_at: '2026-01-01T00:00:00.000Z',
        },
      }),
      latest_authentications: [],
      latest_heartbeats: [],
    },
  }
}

describe('Function: decideRenewal', () => {
  const attempt: RenewalAttempt = { presented: 3, requestId: R1, publicKeyFingerprint: 'SHA256:k' }
  const cases: [string, BotInstance | undefined, ReturnType<typeof decideRenewal>][] = [
    ['ok/stored = presented commits presented + 1', instance(3), { kind: 'commit', generation: 4 }],
    [
      'ok/stored = presented + 1 with the same request id and key replays it',
      instance(4, { id: R1, key: 'SHA256:k' }),
      { kind: 'replay', generation: 4, notAfter: new Date('2026-01-01T01:00:00.000Z') },
    ],
    [
      'fail/another request id at the advanced generation',
      instance(4, { id: R2, key: 'SHA256:k' }),
      { kind: 'mismatch', stored: 4, reason: 'request_id' },
    ],
    [
      'fail/the same request id for another key',
      instance(4, { id: R1, key: 'SHA256:other' }),
      { kind: 'mismatch', stored: 4, reason: 'public_key' },
    ],
    [
      'fail/advanced by one but no renewal recorded',
      instance(4),
      { kind: 'mismatch', stored: 4, reason: 'request_id' },
    ],
    [
      'fail/only the last renewal is retryable: two behind is stale even with the same id',
      instance(5, { id: R1, key: 'SHA256:k', generation: 5 }),
      { kind: 'mismatch', stored: 5, reason: 'generation' },
    ],
    [
      'fail/a generation ahead of the stored one',
      instance(2),
      { kind: 'mismatch', stored: 2, reason: 'generation' },
    ],
    ['fail/no instance record', undefined, { kind: 'mismatch', stored: 0, reason: 'no_instance' }],
  ]
  for (const [name, doc, expected] of cases) {
    it(name, () => assert.deepEqual(decideRenewal(doc, attempt), expected))
  }
})

describe('Function: renewBotIdentity', () => {
  let h: AuthHarness
  let bot: Awaited<ReturnType<typeof joinedBot>>
  let id: string
  beforeEach(async () => {
    h = await authHarness()
    bot = await joinedBot(h)
    id = bot.response.identity.bot_instance_id as string
  })

  const locks = async () => (await h.service.deps.resources.list('lock')).items
  const getInstance = () => h.service.deps.resources.get('bot_instance', `example/${id}`)
  const audits = async (type: string) =>
    (await h.store.list('audit/')).items
      .map((i) => JSON.parse(i.value) as Record<string, unknown>)
      .filter((e) => e.type === type)
  const callerOf = (tlsCertPem: string): Caller => {
    const cert = new X509Certificate(tlsCertPem)
    return { identity: decodeIdentity(cert.raw), expires: new Date(cert.validTo) }
  }
  /** The auth deps, counting compare-and-swap conflicts on the way. */
  const countingConflicts = () => {
    const real = h.service.deps.resources
    let conflicts = 0
    const resources = {
      get: real.get.bind(real),
      list: real.list.bind(real),
      create: real.create.bind(real),
      delete: real.delete.bind(real),
      update: (doc: unknown, options?: { revision?: string }) =>
        real.update(doc, options).catch((err: unknown) => {
          if (err instanceof RevisionMismatchError) conflicts++
          throw err
        }),
    } as unknown as ResourceService
    return { ...h.service.deps, resources, conflicts: () => conflicts }
  }
  const spkiOf = (pem: string) => new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' })

  async function assertLocked(stored: number, presented: number, reason: string) {
    const all = await locks()
    assert.equal(all.length, 1)
    assert.deepEqual(all[0]?.spec, { target: { bot_instance: `example/${id}` }, message: LOCK_MESSAGE(id) })
    const [event] = await audits('cert.generation_mismatch')
    assert.deepEqual(
      { ...event, time: undefined },
      {
        type: 'cert.generation_mismatch',
        user: 'bot-example',
        success: false,
        time: undefined,
        bot: 'example',
        instance: id,
        stored,
        presented,
        reason,
        request_id: event?.request_id,
        lock: all[0]?.metadata.name,
      },
    )
  }

  it('ok/the same request retried gets the same generation, notAfter and key; nothing changes', async () => {
    // Prepare: renewal R1 commits generation 2; its answer is "lost".
    const next = newKey()
    const committedAt = h.clock.now().toISOString()
    const first = await h.client.renew(bot.identity, next.publicPem, 3600, R1)
    const committed = await getInstance()
    h.clock.advance(5 * 60_000)

    // Act: the bot retries R1 with the same key, still authenticated by its generation-1 identity.
    const again = await h.client.renew(bot.identity, next.publicPem, 3600, R1)

    // Assess
    assert.equal(first.identity.generation, 2)
    assert.equal(again.identity.generation, 2)
    assert.equal(again.not_after, first.not_after, 'a retry never extends the committed lifetime')
    assert.notEqual(again.serial, first.serial)
    assert.deepEqual(spkiOf(again.tls_cert), spkiOf(first.tls_cert))
    assert.equal((await getInstance()).metadata.revision, committed.metadata.revision)
    assert.deepEqual(committed.status.last_renewal, {
      request_id: R1,
      generation: 2,
      public_key_fingerprint: committed.status.latest_authentications.at(-1)?.public_key_fingerprint,
      not_after: first.not_after,
      committed_at: committedAt,
    })
    assert.deepEqual(await locks(), [])
    assert.deepEqual(
      (await audits('cert.renewed')).map((e) => [e.generation, e.retry, e.request_id]),
      [
        [2, false, R1],
        [2, true, R1],
      ],
    )
    // And the retried identity is a working one: it renews on.
    const renewed = { key: next.key, tlsCertPem: again.tls_cert }
    assert.equal((await h.client.renew(renewed, newKey().publicPem, 3600, R2)).identity.generation, 3)
  })

  it('fail/another request id at the advanced generation locks the instance', async () => {
    await h.client.renew(bot.identity, newKey().publicPem, 3600, R1)
    await rejects(
      h.client.renew(bot.identity, newKey().publicPem, 3600, R2),
      'ERR_ACCESS_DENIED',
      mismatch(id, 2, 1),
    )
    await assertLocked(2, 1, 'request_id')
  })

  it('fail/the same request id asking for another key locks the instance', async () => {
    await h.client.renew(bot.identity, newKey().publicPem, 3600, R1)
    await rejects(
      h.client.renew(bot.identity, newKey().publicPem, 3600, R1),
      'ERR_ACCESS_DENIED',
      mismatch(id, 2, 1),
    )
    await assertLocked(2, 1, 'public_key')
  })

  it('fail/a stale generation locks: once the instance moved on, an old renewal is not retryable', async () => {
    const k2 = newKey()
    const second = await h.client.renew(bot.identity, k2.publicPem, 3600, R1)
    await h.client.renew({ key: k2.key, tlsCertPem: second.tls_cert }, newKey().publicPem, 3600, R2)
    await rejects(
      h.client.renew(bot.identity, k2.publicPem, 3600, R1),
      'ERR_ACCESS_DENIED',
      mismatch(id, 3, 1),
    )
    await assertLocked(3, 1, 'generation')
  })

  it('fail/a missing instance record is a mismatch (stored=0)', async () => {
    await h.service.deps.resources.delete('bot_instance', `example/${id}`)
    await rejects(
      h.client.renew(bot.identity, newKey().publicPem, 3600, R1),
      'ERR_ACCESS_DENIED',
      mismatch(id, 0, 1),
    )
    await assertLocked(0, 1, 'no_instance')
  })

  it('fail/a locked instance gets nothing, not even a retry of its committed renewal', async () => {
    const next = newKey()
    await h.client.renew(bot.identity, next.publicPem, 3600, R1)
    await rejects(h.client.renew(bot.identity, newKey().publicPem, 3600, R2), 'ERR_ACCESS_DENIED', /mismatch/)
    await rejects(
      h.client.renew(bot.identity, next.publicPem, 3600, R1),
      'ERR_ACCESS_DENIED',
      `lock targeting bot instance "example/${id}" is in force: ${LOCK_MESSAGE(id)}`,
    )
  })

  it('fail/a request id is required and checked (400, no lock)', async () => {
    const body = { public_key: newKey().publicPem, ttl_seconds: 3600 }
    await rejects(
      h.client.request(bot.identity, 'POST', '/v1/renew', body),
      'ERR_BAD_REQUEST',
      /^request_id: /,
    )
    await rejects(
      h.client.request(bot.identity, 'POST', '/v1/renew', { ...body, request_id: 'short' }),
      'ERR_BAD_REQUEST',
      'request_id: must be 16-64 of [A-Za-z0-9_-]',
    )
    assert.deepEqual(await locks(), [])
    assert.equal((await getInstance()).status.generation, 1)
  })

  it('ok/a heartbeat landing between the read and the commit is not taken for a second holder', async () => {
    const caller = callerOf(bot.response.tls_cert)
    const real = h.service.deps.resources
    let raced = false
    const racing = {
      get: real.get.bind(real),
      list: real.list.bind(real),
      create: real.create.bind(real),
      delete: real.delete.bind(real),
      update: async (doc: unknown, options?: { revision?: string }) => {
        if (!raced) {
          raced = true
          const beat = { hostname: 'h', version: '0', one_shot: false, is_startup: false, uptime_seconds: 1 }
          await recordHeartbeat(h.service.deps, caller, beat)
        }
        return real.update(doc, options)
      },
    } as unknown as ResourceService
    const deps = { ...h.service.deps, resources: racing }

    const res = await renewBotIdentity(deps, caller, {
      ttlMs: 3600_000,
      publicKey: parseCallerPublicKey(newKey().publicPem),
      requestId: R1,
    })

    assert.ok(raced)
    assert.equal(res.identity.generation, 2)
    const after = await getInstance()
    assert.equal(after.status.generation, 2)
    assert.equal(after.status.latest_heartbeats.length, 1)
    assert.deepEqual(await locks(), [])
  })

  it('ok/two copies of one request at once: one commits, the other is answered as its retry', async () => {
    const caller = callerOf(bot.response.tls_cert)
    const publicKey = parseCallerPublicKey(newKey().publicPem)
    const req = { ttlMs: 3600_000, publicKey, requestId: R1 }
    const deps = countingConflicts()
    const [a, b] = await Promise.all([
      renewBotIdentity(deps, caller, req),
      renewBotIdentity(deps, caller, req),
    ])
    assert.equal(deps.conflicts(), 1, 'both read generation 1; the second lost the compare-and-swap')
    assert.equal(a.identity.generation, 2)
    assert.equal(b.identity.generation, 2)
    assert.equal(a.not_after, b.not_after)
    assert.equal((await getInstance()).status.generation, 2)
    assert.deepEqual((await audits('cert.renewed')).map((e) => e.retry).sort(), [false, true])
    assert.deepEqual(await locks(), [])
  })

  it('fail/two different renewals at once: exactly one commits, the other locks', async () => {
    const caller = callerOf(bot.response.tls_cert)
    const req = (requestId: string) => ({
      ttlMs: 3600_000,
      publicKey: parseCallerPublicKey(newKey().publicPem),
      requestId,
    })
    const deps = countingConflicts()
    const results = await Promise.allSettled([
      renewBotIdentity(deps, caller, req(R1)),
      renewBotIdentity(deps, caller, req(R2)),
    ])
    const won = results.filter((r) => r.status === 'fulfilled')
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    assert.equal(won.length, 1)
    assert.equal(lost.length, 1)
    assert.equal((lost[0] as PromiseRejectedResult).reason.message, mismatch(id, 2, 1))
    assert.equal(deps.conflicts(), 1, 'the loser lost the compare-and-swap, then decided again')
    assert.equal((await locks()).length, 1)
  })

  it('fail/a retry after the renewed identity expired is refused, without a lock', async () => {
    const caller = callerOf(bot.response.tls_cert)
    const req = { ttlMs: 60_000, publicKey: parseCallerPublicKey(newKey().publicPem), requestId: R1 }
    const first = await renewBotIdentity(h.service.deps, caller, req)
    h.clock.advance(61_000)
    await rejects(
      renewBotIdentity(h.service.deps, caller, req),
      'ERR_ACCESS_DENIED',
      `the renewal of bot example/${id} to generation 2 expired at ${first.not_after} before it was collected; join again with a new token (bots instances add)`,
    )
    assert.deepEqual(await locks(), [])
  })

  it('fail/only a renewable bot identity renews', async () => {
    const certs = await h.client.certs(bot.identity, {
      publicKeyPem: newKey().publicPem,
      roles: ['access'],
      ttlSeconds: 600,
    })
    const impersonated = callerOf(certs.tls_cert)
    await rejects(
      renewBotIdentity(h.service.deps, impersonated, {
        ttlMs: 3600_000,
        publicKey: parseCallerPublicKey(newKey().publicPem),
        requestId: R3,
      }),
      'ERR_ACCESS_DENIED',
      'only a renewable bot identity can be renewed',
    )
  })
})
