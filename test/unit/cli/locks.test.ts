/**
 * `credbroker locks ls|add|rm` and `credbroker bots rm` (lib/cli/commands/locks.ts, bots.ts) on
 * the embedded store of a temporary state directory, through `main(argv, io)`: output, exit codes
 * (0 ok, 1 an error naming the option, 2 a command line of the wrong shape or an `--expires` that
 * does not parse), and an auth service
 * on the same state that a CLI lock stops and `locks rm` lets through again.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { MemoryKeyStore } from '../../../lib/adapters/memory/key-store.ts'
import { openStore } from '../../../lib/adapters/open-store.ts'
import { createAuthService } from '../../../lib/auth/service.ts'
import { AuthClient } from '../../../lib/bot/auth-client.ts'
import { main } from '../../../lib/cli/main.ts'
import { systemClock } from '../../../lib/clock.ts'
import { loadConfig } from '../../../lib/config/load-config.ts'
import { silentLogger } from '../../../lib/log.ts'
import { cryptoRandom } from '../../../lib/random.ts'
import type { Lock } from '../../../lib/resources/types.ts'
import { newKey } from '../../helpers/auth-harness.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const INSTANCE = 'ci/3f2c0b7e-8d1a-4c56-9e0f-2b7a4d1c9e85'

describe('credbroker locks and bots rm', () => {
  let dir: string
  let out: string[]
  let err: string[]
  const env = () => ({ CREDBROKER_STATE_DIR: join(dir, '.credbroker'), CREDBROKER_LOG_LEVEL: 'warn' })
  const run = (...argv: string[]) =>
    main(argv, { env: env(), cwd: process.cwd(), stdout: (t) => out.push(t), stderr: (t) => err.push(t) })
  /** Runs a command that must succeed and returns what it printed. */
  const ok = async (...argv: string[]) => {
    out = []
    err = []
    assert.equal(await run(...argv), 0, err.join('\n'))
    return out.join('\n')
  }
  const locks = async () => JSON.parse(await ok('locks', 'ls', '--json')) as Lock[]

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'credbroker-locks-'))
    out = []
    err = []
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('ok/add prints only the id; ls is a table with human times, --json the documents; rm lifts; rm again is ERR_NOT_FOUND', async () => {
    // Act: two locks.
    const before = Date.now()
    const id = await ok('locks', 'add', '--user', 'bot-ci', '--message', 'incident 7', '--expires', '12h')
    const other = await ok('locks', 'add', '--bot-instance', INSTANCE)
    // Assess: ids, documents, table.
    assert.match(id, UUID)
    assert.match(other, UUID)
    const docs = await locks()
    assert.deepEqual(docs.map((l) => l.metadata.name).sort(), [id, other].sort())
    const first = docs.find((l) => l.metadata.name === id) as Lock
    assert.deepEqual(first.spec.target, { user: 'bot-ci' })
    assert.equal(first.spec.message, 'incident 7')
    assert.equal(first.spec.created_by, 'cli')
    const expires = Date.parse(first.metadata.expires ?? '')
    assert.ok(
      expires >= before + 12 * 3600_000 && expires <= Date.now() + 12 * 3600_000,
      first.metadata.expires,
    )

    const table = (await ok('locks', 'ls')).split('\n')
    assert.match(table[0] ?? '', /^ID\s+TARGET\s+MESSAGE\s+EXPIRES\s+CREATED BY\s+CREATED AT$/)
    assert.match(table[1] ?? '', /^-+( +-+){5}$/)
    const row = table.find((line) => line.startsWith(id)) ?? ''
    // Text mode shows times for people: the minute in UTC and how far away it is.
    const expiresText = `${first.metadata.expires?.slice(0, 16).replace('T', ' ')} UTC \\(in 12h\\)`
    assert.match(row, new RegExp(`^${id}\\s+user=bot-ci\\s+incident 7\\s+${expiresText}\\s+cli\\s+\\d{4}-`))
    const otherRow = table.find((line) => line.startsWith(other)) ?? ''
    assert.match(otherRow, new RegExp(`^${other}\\s+bot_instance=${INSTANCE}\\s+-\\s+never\\s+cli\\s+`))
    assert.match(await ok('get', `lock/${id}`), /^ {2}created_by: cli$/m)

    // Act + Assess: removal.
    assert.equal(await ok('locks', 'rm', id), `lock "${id}" removed (user=bot-ci)`)
    assert.deepEqual(
      (await locks()).map((l) => l.metadata.name),
      [other],
    )
    assert.equal(await run('locks', 'rm', id), 1)
    assert.deepEqual(err, [`error [ERR_NOT_FOUND]: lock "${id}" not found`])
  })

  const usage: [argv: string[], message: RegExp][] = [
    [['locks'], /^credbroker locks — .*\n\nUsage: credbroker locks <command>/],
    [
      ['locks', 'frob'],
      /^error \[ERR_BAD_REQUEST\]: unknown command "locks frob"; expected one of ls, add, rm$/,
    ],
    [['locks', 'add'], /locks add needs exactly one of --user, --role, --bot-instance, --token$/],
    [['locks', 'add', '--user', 'a', '--role', 'b'], /needs exactly one of/],
    [['locks', 'add', 'bot-ci'], /locks add: unexpected argument "bot-ci"/],
    [['locks', 'rm'], /locks rm: missing <id>/],
    [['locks', 'rm', 'a', 'b'], /locks rm: unexpected argument "b"/],
    [['locks', 'ls', '--user', 'a'], /unknown option --user/],
    [['locks', 'add', '--user'], /option --user needs a value/],
    [['locks', 'add', '--team', 'x'], /unknown option --team/],
    [['bots', 'rm'], /^error \[ERR_BAD_REQUEST\]: bots rm: missing <name>$/],
    [
      ['locks', 'add', '--user', 'a', '--expires', 'tomorrow'],
      /^error \[ERR_BAD_REQUEST\]: --expires: "tomorrow" is neither a duration such as 30m or 12h nor an RFC 3339 instant such as 2026-01-01T00:00:00Z$/,
    ],
    [
      ['locks', 'add', '--user', 'a', '--expires', '2020-01-01T00:00:00Z'],
      /^error \[ERR_BAD_REQUEST\]: --expires: 2020-01-01T00:00:00Z is in the past$/,
    ],
  ]
  for (const [argv, message] of usage) {
    it(`fail/${argv.join(' ')}: exit 2, nothing written`, async () => {
      assert.equal(await run(...argv), 2)
      assert.match(err[0] ?? '', message)
      assert.deepEqual(await locks(), [])
    })
  }

  const invalid: [argv: string[], message: string | RegExp][] = [
    [
      ['locks', 'add', '--bot-instance', 'ci'],
      /^error \[ERR_INVALID_RESOURCE\]: --bot-instance: must be "<bot name>\/<instance id>"/,
    ],
    [['locks', 'add', '--user', 'a b'], /^error \[ERR_INVALID_RESOURCE\]: --user: /],
    [['locks', 'add', '--role', ''], /^error \[ERR_INVALID_RESOURCE\]: --role: /],
    [
      ['locks', 'add', '--token', 'x', '--message', 'bell\u0007'],
      /^error \[ERR_INVALID_RESOURCE\]: --message: /,
    ],
    [['locks', 'rm', 'no/such'], 'error [ERR_BAD_REQUEST]: invalid lock name "no/such"'],
  ]
  for (const [argv, message] of invalid) {
    it(`fail/${argv.join(' ')}: exit 1 naming the option, nothing written`, async () => {
      assert.equal(await run(...argv), 1)
      if (typeof message === 'string') assert.deepEqual(err, [message])
      else assert.match(err[0] ?? '', message)
      assert.deepEqual(await locks(), [])
    })
  }

  it('ok/bots rm removes the bot and its tokens, keeps its locks and says so; again is ERR_NOT_FOUND', async () => {
    // Prepare
    await ok('bots', 'add', 'ci', '--roles', 'access')
    await ok('bots', 'instances', 'add', 'ci')
    const onUser = await ok('locks', 'add', '--user', 'bot-ci', '--message', 'investigating')
    const unrelated = await ok('locks', 'add', '--user', 'bot-other')
    // Act
    const printed = await ok('bots', 'rm', 'ci')
    // Assess
    assert.equal(
      printed,
      [
        'bot "ci" removed, with its user bot-ci and role bot-ci',
        'join tokens removed: 2',
        'bot instances removed: 0',
        'locks kept: 1 (credbroker locks rm <id> lifts one)',
        `  ${onUser}  user=bot-ci`,
      ].join('\n'),
    )
    assert.doesNotMatch(await ok('bots', 'ls'), /^ci\s/m)
    assert.deepEqual((await locks()).map((l) => l.metadata.name).sort(), [onUser, unrelated].sort())
    assert.equal(await ok('get', 'token'), '')
    assert.equal(await run('bots', 'rm', 'ci'), 1)
    assert.deepEqual(err, ['error [ERR_NOT_FOUND]: bot "ci" not found'])
  })

  it('ok/a CLI lock stops a bot of an auth service on the same state; locks rm lets it through again', async () => {
    // Prepare: bot ci (CLI), an auth service on the same embedded store, the bot joined.
    const token = /^token: ([0-9a-f]+)$/m.exec(await ok('bots', 'add', 'ci', '--roles', 'access'))?.[1] ?? ''
    const store = await openStore(loadConfig(env(), process.cwd()).store, { clock: systemClock })
    try {
      const service = await createAuthService({
        clusterName: 'cli.test',
        publicAddr: 'http://auth.test',
        store,
        keys: new MemoryKeyStore(),
        clock: systemClock,
        random: cryptoRandom,
        log: silentLogger,
      })
      const client = new AuthClient({
        baseUrl: 'http://auth.test',
        fetch: async (url, init) => service.app.request(url, init),
      })
      const kp = newKey()
      const joined = await client.join(token, kp.publicPem, 3600)
      const bot = { key: kp.key, tlsCertPem: joined.tls_cert }
      const instance = `ci/${joined.identity.bot_instance_id}`
      const beat = () =>
        client.heartbeat(bot, {
          hostname: 'h',
          version: '0',
          one_shot: true,
          is_startup: true,
          uptime_seconds: 0,
        })
      await beat()
      // Act: lock the instance from the CLI.
      const id = await ok('locks', 'add', '--bot-instance', instance, '--message', 'copied storage?')
      // Assess: refused, then served again after locks rm.
      await assert.rejects(beat(), {
        code: 'ERR_ACCESS_DENIED',
        message: `lock targeting bot instance "${instance}" is in force: copied storage?`,
      })
      await assert.rejects(client.renew(bot, newKey().publicPem, 3600), { code: 'ERR_ACCESS_DENIED' })
      await ok('locks', 'rm', id)
      await beat()
      assert.equal((await client.renew(bot, newKey().publicPem, 3600)).identity.generation, 2)
    } finally {
      await store.close()
    }
  })
})
