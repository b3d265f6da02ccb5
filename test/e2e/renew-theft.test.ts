/**
 * Theft detection survives crash safety (docs/RENEWAL.md; issue 7 acceptance): a bot's internal
 * storage copied to a second process is the guide's "stolen certificate" (or "two bots sharing
 * one data directory"). Whichever copy renews second is refused with the generation mismatch and
 * the bot instance is locked with the exact message; a copy taken while a renewal was pending is
 * caught at the renewal after. Then the guide's recovery, through the admin API: remove the lock,
 * `bots instances add`, restart the bot with the new token: a new bot instance that works.
 * Bots are real processes (`renew-bot-runner.ts`) against an auth service on 127.0.0.1.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { DirectoryDestination } from '../../lib/adapters/directory/destination.ts'
import { issueAdminIdentity } from '../../lib/auth/admin.ts'
import { addJoinToken } from '../../lib/auth/bots.ts'
import { parseCallerPublicKey } from '../../lib/auth/public-key.ts'
import { AuthClient, type ClientIdentity } from '../../lib/bot/auth-client.ts'
import { generateClientKey } from '../../lib/bot/keys.ts'
import { loadStoredIdentity } from '../../lib/bot/renewal-storage.ts'
import type { Lock } from '../../lib/resources/types.ts'
import {
  prepareRunner,
  type RenewServer,
  type Runner,
  runBot,
  startRenewServer,
} from '../helpers/renew-processes.ts'
import type { RunnerArgs, RunnerMessage } from '../helpers/renew-protocol.ts'

const lockMessage = (id: string) =>
  `The bot instance example/${id} has been locked due to a certificate generation mismatch, possibly indicating a stolen certificate.`

describe('e2e: a copied bot storage is detected and locked; the guide’s recovery restores service', () => {
  let server: RenewServer
  let runner: Runner
  let root: string
  let admin: ClientIdentity
  let api: AuthClient
  let n = 0

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'credbroker-renew-theft-'))
    runner = await prepareRunner()
    server = await startRenewServer()
    const key = generateClientKey()
    const certs = await issueAdminIdentity(server.service.deps, parseCallerPublicKey(key.publicPem), 3600_000)
    admin = { key: key.privateKey, tlsCertPem: certs.tlsCertPem }
    api = new AuthClient({ baseUrl: server.url, clock: server.clock })
  })

  after(async () => {
    await server?.close()
    runner?.cleanUp()
    rmSync(root, { recursive: true, force: true })
  })

  /** A bot process on `dir`: one refresh (or a crash at `crash`). */
  async function refresh(dir: string, token: string, crash: RunnerArgs['crash'] = null) {
    server.clock.advance(60_000)
    return runBot(runner, server, {
      authUrl: server.url,
      storageDir: dir,
      token,
      nowMs: +server.clock.now(),
      crash,
      refreshes: 1,
    })
  }

  /** A joined bot with its own storage directory. */
  async function joinedBot() {
    const { token } = await addJoinToken(server.service.deps, 'example', 24 * 3600_000)
    const dir = join(root, `bot-${++n}`)
    const joined = await refresh(dir, token)
    const first = joined.messages[0]
    assert.ok(first?.type === 'renewed' && first.generation === 1, JSON.stringify(joined))
    return { dir, token, id: first.instance }
  }

  /** The bot's internal data directory, copied to another place (links kept as they are). */
  function copyStorage(dir: string): string {
    const copy = join(root, `copy-${++n}`)
    cpSync(dir, copy, { recursive: true, verbatimSymlinks: true })
    return copy
  }

  const renewed = (generation: number, instance: string): RunnerMessage[] => [
    { type: 'renewed', generation, instance },
  ]
  const refused = (message: string): RunnerMessage[] => [
    { type: 'failed', code: 'ERR_ACCESS_DENIED', message },
  ]
  const mismatch = (id: string, stored: number, presented: number) =>
    refused(
      `renewable cert generation mismatch for bot example/${id}: stored=${stored}, presented=${presented}`,
    )
  const inForce = (id: string) =>
    refused(`lock targeting bot instance "example/${id}" is in force: ${lockMessage(id)}`)

  async function locksOn(id: string): Promise<Lock[]> {
    const page = await api.request<{ items: Lock[] }>(admin, 'GET', '/v1/resources/lock')
    return page.items.filter((l) => l.spec.target.bot_instance === `example/${id}`)
  }

  async function assertLockedOnce(id: string): Promise<Lock> {
    const locks = await locksOn(id)
    assert.equal(locks.length, 1)
    assert.deepEqual(locks[0]?.spec, { target: { bot_instance: `example/${id}` }, message: lockMessage(id) })
    return locks[0] as Lock
  }

  for (const first of ['original', 'copy'] as const) {
    it(`fail/the ${first} renews first: the other is refused (stored=2, presented=1) and the instance locked`, async () => {
      // Prepare
      const bot = await joinedBot()
      const copy = copyStorage(bot.dir)
      const [winner, loser] = first === 'original' ? [bot.dir, copy] : [copy, bot.dir]

      // Act
      const a = await refresh(winner, bot.token)
      const b = await refresh(loser, bot.token)

      // Assess
      assert.deepEqual(a.messages, renewed(2, bot.id))
      assert.deepEqual(b.messages, mismatch(bot.id, 2, 1))
      assert.equal(b.code, 1)
      await assertLockedOnce(bot.id)
      // The lock stops the holder that renewed first too, until an operator steps in.
      assert.deepEqual((await refresh(winner, bot.token)).messages, inForce(bot.id))
      // Neither storage was touched by the refusals.
      const stored = await loadStoredIdentity(new DirectoryDestination({ path: loser }))
      assert.equal(stored?.identity.generation, 1)
    })
  }

  it('fail/a copy taken while an answered-but-unsaved renewal was pending: both collect it, the next renewal is caught', async () => {
    // Prepare: the bot is killed after the server committed its renewal; its storage is copied.
    const bot = await joinedBot()
    const crashed = await refresh(bot.dir, bot.token, { point: 'server-committed', artifact: 1 })
    assert.equal(crashed.signal, 'SIGKILL')
    const copy = copyStorage(bot.dir)

    // Act: both finish the same pending renewal (same request id, same key): not yet a conflict.
    const b = await refresh(copy, bot.token)
    const a = await refresh(bot.dir, bot.token)
    assert.deepEqual(b.messages, renewed(2, bot.id))
    assert.deepEqual(a.messages, renewed(2, bot.id))
    assert.deepEqual(await locksOn(bot.id), [])
    // … but they now hold one identity twice, and the second to renew it is caught.
    assert.deepEqual((await refresh(bot.dir, bot.token)).messages, renewed(3, bot.id))
    assert.deepEqual((await refresh(copy, bot.token)).messages, mismatch(bot.id, 3, 2))

    // Assess
    await assertLockedOnce(bot.id)
  })

  it('ok/the guide’s recovery: locks rm, bots instances add, restart with the new token → a new, working instance', async () => {
    // Prepare: a locked bot.
    const bot = await joinedBot()
    const copy = copyStorage(bot.dir)
    await refresh(copy, bot.token)
    assert.deepEqual((await refresh(bot.dir, bot.token)).messages, mismatch(bot.id, 2, 1))
    const lock = await assertLockedOnce(bot.id)

    // Act 1: `locks rm <id>` (after making sure which copy is the thief, as the guide says).
    await api.request(admin, 'DELETE', `/v1/resources/lock/${lock.metadata.name}`)
    assert.deepEqual(await locksOn(bot.id), [])
    // Act 2: `bots instances add example`, and the bot restarts with the new token.
    const added = await api.request<{ token: string }>(admin, 'POST', '/v1/bots/example/instances')
    const rejoined = await refresh(bot.dir, added.token)

    // Assess: a new instance at generation 1, which renews and gets impersonated certificates.
    const joined = rejoined.messages[0]
    assert.ok(joined?.type === 'renewed', JSON.stringify(rejoined))
    assert.notEqual(joined.instance, bot.id)
    assert.equal(joined.generation, 1)
    assert.deepEqual((await refresh(bot.dir, added.token)).messages, renewed(2, joined.instance))
    const stored = await loadStoredIdentity(new DirectoryDestination({ path: bot.dir }))
    assert.ok(stored)
    const certs = await api.certs(stored.identity, {
      publicKeyPem: generateClientKey().publicPem,
      roles: ['access'],
      ttlSeconds: 600,
    })
    assert.deepEqual(certs.identity.roles, ['access'])
    assert.deepEqual(await locksOn(joined.instance), [])
  })
})
