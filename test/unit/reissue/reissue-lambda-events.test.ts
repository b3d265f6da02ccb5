/**
 * The reissue Lambda beyond Function URL requests: auth-service events delivered by direct
 * invoke (every output reissued, through the same coordinator as requests; events from another
 * source or bus refused before anything runs), and `Idempotency-Key` replies kept in Secrets
 * Manager (moto) so that a retry reaching a new container replays instead of issuing.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { createSecretsManagerClient } from '../../../lib/adapters/secrets-manager/client.ts'
import { SecretsManagerDestination } from '../../../lib/adapters/secrets-manager/destination.ts'
import { silentLogger } from '../../../lib/log.ts'
import type { Destination } from '../../../lib/ports/destination.ts'
import { REPLY_RECORD_ARTIFACT } from '../../../lib/reissue/reply-record.ts'
import { loadReissueLambdaConfig, type ReissueLambdaConfig } from '../../../lib/serverless/reissue-config.ts'
import { createReissueHandler } from '../../../lib/serverless/reissue-lambda.ts'
import { type AuthHarness, authHarness } from '../../helpers/auth-harness.ts'
import { type MotoServer, startMoto } from '../../helpers/moto.ts'
import { type ScheduledBot, scheduledBot } from '../../helpers/scheduled-bot.ts'
import { ACCOUNT, authEvent, BUS, OPS, urlEvent } from './lambda-events.ts'

/** One "container": a handler over `bot`'s outputs and storage (shared by every container). */
function container(
  h: AuthHarness,
  bot: ScheduledBot,
  extra: { replyStore?: Destination; eventBus?: string } = {},
) {
  const config: ReissueLambdaConfig = {
    bot: bot.deps.config,
    warnings: [],
    region: 'us-east-1',
    logLevel: 'error',
    allowedArns: [`arn:aws:sts::${ACCOUNT}:assumed-role/ops-*/*`],
    perMinute: 6,
    ...(extra.eventBus !== undefined && { eventBus: extra.eventBus }),
  }
  return createReissueHandler(config, {
    clock: h.clock,
    log: silentLogger,
    env: {},
    destinations: bot.destinations,
    storage: bot.deps.storage,
    fetch: (url, init) => h.fetch(String(url), init),
    ...(extra.replyStore && { replyStore: extra.replyStore }),
  })
}

async function world(options: { eventBus?: string } = { eventBus: BUS }) {
  const h = await authHarness()
  const bot = await scheduledBot(h, { outputs: { a: {}, b: {} } })
  const handler = container(h, bot, options)
  const writes = () => [...bot.destinations.values()].map((d) => d.written.length)
  return { h, bot, handler, writes }
}

describe('reissue Lambda: auth-service events by direct invoke', () => {
  for (const type of ['lock.deleted', 'role.updated', 'ca.rotation']) {
    it(`ok/a ${type} event reissues every output, with version ids`, async () => {
      const { handler, writes } = await world()
      const outcome = await handler(authEvent(type))
      assert.equal(outcome.trigger, type)
      assert.equal(outcome.ok, true)
      assert.deepEqual(
        outcome.outputs.map((o) => [o.output, o.ok, o.ok && o.version_id]),
        [
          ['a', true, '1'],
          ['b', true, '1'],
        ],
      )
      assert.deepEqual(writes(), [1, 1])
    })
  }

  it('ok/an event during a requested reissue of every output joins it: one issuance per output', async () => {
    const { handler, writes } = await world()
    const [request, event] = await Promise.all([
      handler(urlEvent({ method: 'POST', path: '/v1/reissue', body: {}, userArn: OPS })),
      handler(authEvent('lock.deleted')),
    ])
    assert.equal(request.statusCode, 200)
    assert.equal(event.ok, true)
    assert.deepEqual(writes(), [1, 1])
    const replied = JSON.parse(request.body ?? '{}') as { outputs: Array<{ version_id: string }> }
    assert.deepEqual(
      replied.outputs.map((o) => o.version_id),
      event.outputs.map((o) => o.ok && o.version_id),
    )
  })

  const refused: Array<[string, ReturnType<typeof authEvent>]> = [
    ['another source', authEvent('lock.deleted', {}, { source: 'aws.events' })],
    ['another bus', authEvent('lock.deleted', { event_bus: 'someone-elses' })],
    ['no bus named', authEvent('lock.deleted', { event_bus: undefined })],
    ['an event type that triggers nothing', authEvent('lock.created')],
    ['a schedule event', authEvent('Scheduled Event', {}, { source: 'aws.scheduler' })],
  ]
  for (const [why, event] of refused) {
    it(`fail/${why}: refused (ERR_BAD_REQUEST), nothing issued`, async () => {
      const { handler, writes } = await world()
      await assert.rejects(handler(event), { code: 'ERR_BAD_REQUEST' })
      assert.deepEqual(writes(), [0, 0])
    })
  }

  it('fail/no event bus configured: every event is refused', async () => {
    const { handler, writes } = await world({})
    await assert.rejects(handler(authEvent('lock.deleted')), /CREDBROKER_REISSUE_EVENT_BUS/)
    assert.deepEqual(writes(), [0, 0])
  })

  it('fail/a failed output fails the invocation with the outcome', async () => {
    const { bot, handler } = await world()
    bot.destinations.get('b')?.failures.push(new Error('disk full'))
    await assert.rejects(
      handler(authEvent('role.deleted')),
      (err: Error & { code?: string; outcome?: unknown }) => {
        assert.equal(err.code, 'ERR_OUTPUTS_FAILED')
        const outcome = err.outcome as { outputs: Array<{ output: string; ok: boolean }> }
        assert.deepEqual(
          outcome.outputs.map((o) => [o.output, o.ok]),
          [
            ['a', true],
            ['b', false],
          ],
        )
        return true
      },
    )
  })
})

describe('reissue Lambda: Idempotency-Key replies across containers (Secrets Manager on moto)', () => {
  let moto: MotoServer
  before(async () => {
    moto = await startMoto()
  })
  after(async () => {
    await moto?.stop()
  })

  /** A destination over the replies secret with its own client, as a new container builds. */
  const repliesOn = (name: string) =>
    new SecretsManagerDestination({
      name,
      client: createSecretsManagerClient({
        region: moto.region,
        endpoint: moto.endpoint,
        credentials: moto.adminCredentials,
      }),
      tags: { bot: 'example', output: 'reissue-replies' },
    })

  it('ok/a retry on a second container answers with the first reply and issues nothing', async () => {
    const h = await authHarness()
    const bot = await scheduledBot(h, { outputs: { a: {}, b: {} } })
    const secret = `credbroker/dev/example/reissue-replies-${randomBytes(4).toString('hex')}`
    const event = urlEvent({
      method: 'POST',
      path: '/v1/reissue',
      body: { outputs: ['b'], reason: 'leak suspected' },
      headers: { 'idempotency-key': 'incident-42' },
      userArn: OPS,
    })
    const first = await container(h, bot, { replyStore: repliesOn(secret) })(event)
    assert.equal(first.statusCode, 200)
    const issued = bot.requests.get('/v1/certs')
    assert.equal(bot.destinations.get('b')?.written.length, 1)

    const second = await container(h, bot, { replyStore: repliesOn(secret) })(event)
    assert.equal(second.statusCode, 200)
    assert.deepEqual(JSON.parse(second.body ?? ''), JSON.parse(first.body ?? ''))
    assert.equal(bot.destinations.get('b')?.written.length, 1, 'no second write')
    assert.equal(bot.requests.get('/v1/certs'), issued, 'no second issuance')
    const body = JSON.parse(first.body ?? '') as { outputs: Array<{ version_id?: string }> }
    assert.ok(body.outputs[0]?.version_id)

    const stored = await repliesOn(secret).read(REPLY_RECORD_ARTIFACT)
    assert.ok(stored, 'the record lives in the secret')
    assert.doesNotMatch(Buffer.from(stored).toString(), /incident-42|BEGIN/, 'keys hashed, no key material')
  })

  it('fail/the same key with another body on a second container: 409, nothing issued', async () => {
    const h = await authHarness()
    const bot = await scheduledBot(h, { outputs: { a: {}, b: {} } })
    const secret = `credbroker/dev/example/reissue-replies-${randomBytes(4).toString('hex')}`
    const post = (outputs: string[]) =>
      urlEvent({
        method: 'POST',
        path: '/v1/reissue',
        body: { outputs },
        headers: { 'idempotency-key': 'k-1' },
        userArn: OPS,
      })
    assert.equal((await container(h, bot, { replyStore: repliesOn(secret) })(post(['a']))).statusCode, 200)
    const other = await container(h, bot, { replyStore: repliesOn(secret) })(post(['b']))
    assert.equal(other.statusCode, 409)
    assert.equal(JSON.parse(other.body ?? '').code, 'ERR_ALREADY_EXISTS')
    assert.equal(bot.destinations.get('b')?.written.length, 0)
  })
})

describe('reissue Lambda config: replies secret and event bus', () => {
  const env = {
    AWS_REGION: 'eu-west-1',
    CREDBROKER_REISSUE_ALLOWED_ARNS: 'arn:aws:sts::123456789012:assumed-role/ops/*',
    CREDBROKER_BOT_CONFIG: [
      'version: v1',
      'auth_server: https://auth.example.com',
      'onboarding: { join_method: iam, token: bot }',
      'storage: { type: memory }',
      'outputs: []',
    ].join('\n'),
  }

  it('ok/both optional; read when set', () => {
    const plain = loadReissueLambdaConfig(env, '/')
    assert.equal(plain.repliesSecret, undefined)
    assert.equal(plain.eventBus, undefined)
    const set = loadReissueLambdaConfig(
      {
        ...env,
        CREDBROKER_REISSUE_REPLIES_SECRET: 'credbroker/dev/example/.reissue-replies',
        CREDBROKER_REISSUE_EVENT_BUS: BUS,
      },
      '/',
    )
    assert.equal(set.repliesSecret, 'credbroker/dev/example/.reissue-replies')
    assert.equal(set.eventBus, BUS)
  })

  for (const [name, value] of [
    ['CREDBROKER_REISSUE_REPLIES_SECRET', 'has space'],
    ['CREDBROKER_REISSUE_EVENT_BUS', 'bus with space'],
  ] as const) {
    it(`fail/a malformed ${name} is a config error naming it`, () => {
      assert.throws(
        () => loadReissueLambdaConfig({ ...env, [name]: value }, '/'),
        (err: Error) => {
          assert.equal((err as { code?: string }).code, 'ERR_INVALID_CONFIG')
          assert.match(err.message, new RegExp(name))
          return true
        },
      )
    })
  }
})
