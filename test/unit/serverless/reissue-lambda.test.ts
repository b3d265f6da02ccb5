/**
 * The reissue Lambda handler with Function URL events (payload 2.0) carrying an IAM request
 * context: the caller comes from `requestContext.authorizer.iam`, never from headers.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { silentLogger } from '../../../lib/log.ts'
import { loadReissueLambdaConfig, parseAllowedArns } from '../../../lib/serverless/reissue-config.ts'
import { createReissueHandler } from '../../../lib/serverless/reissue-lambda.ts'
import { authHarness } from '../../helpers/auth-harness.ts'
import { scheduledBot } from '../../helpers/scheduled-bot.ts'
import { ACCOUNT, OPS, urlEvent } from '../reissue/lambda-events.ts'

const DEV = `arn:aws:sts::${ACCOUNT}:assumed-role/dev/mallory`

async function handlerUnderTest() {
  const h = await authHarness()
  const bot = await scheduledBot(h, { outputs: { a: {}, b: {} } })
  const handler = createReissueHandler(
    {
      bot: bot.deps.config,
      warnings: [],
      region: 'us-east-1',
      logLevel: 'error',
      allowedArns: [`arn:aws:sts::${ACCOUNT}:assumed-role/ops-*/*`],
      perMinute: 6,
    },
    {
      clock: h.clock,
      log: silentLogger,
      env: {},
      destinations: bot.destinations,
      storage: bot.deps.storage,
      fetch: (url, init) => h.fetch(String(url), init),
    },
  )
  const writes = (name: string) => bot.destinations.get(name)?.written.length ?? 0
  return { handler, writes }
}

const json = (body: string | undefined) => JSON.parse(body ?? 'null') as Record<string, unknown>

describe('reissue Lambda: Function URL events with an IAM request context', () => {
  it('ok/an allowed principal reissues and reads the status', async () => {
    const { handler, writes } = await handlerUnderTest()
    const res = await handler(
      urlEvent({ method: 'POST', path: '/v1/reissue', body: { outputs: ['a'] }, userArn: OPS }),
    )
    assert.equal(res.statusCode, 200)
    const body = json(res.body) as { ok: boolean; outputs: Array<{ output: string; ok: boolean }> }
    assert.deepEqual(
      body.outputs.map((o) => [o.output, o.ok]),
      [['a', true]],
    )
    assert.equal(writes('a'), 1)
    const status = await handler(urlEvent({ method: 'GET', path: '/v1/status', userArn: OPS }))
    assert.equal(status.statusCode, 200)
    const s = json(status.body) as {
      outputs: Array<{ output: string; serial?: string }>
      identity_not_after?: string
    }
    assert.ok(s.outputs[0]?.serial)
    assert.equal(s.outputs[1]?.serial, undefined)
    assert.ok(s.identity_not_after)
  })

  it('fail/a principal outside the allow-list: 403, nothing revealed, nothing issued', async () => {
    const { handler, writes } = await handlerUnderTest()
    const res = await handler(urlEvent({ method: 'POST', path: '/v1/reissue', body: {}, userArn: DEV }))
    assert.equal(res.statusCode, 403)
    assert.deepEqual(json(res.body), { code: 'ERR_ACCESS_DENIED', message: 'not allowed' })
    const status = await handler(urlEvent({ method: 'GET', path: '/v1/status', userArn: DEV }))
    assert.equal(status.statusCode, 403)
    assert.deepEqual([writes('a'), writes('b')], [0, 0])
  })

  it('fail/no IAM context (a header claiming a principal does not count): 401', async () => {
    const { handler, writes } = await handlerUnderTest()
    const res = await handler(
      urlEvent({ method: 'POST', path: '/v1/reissue', body: {}, headers: { 'x-amzn-iam-user-arn': OPS } }),
    )
    assert.equal(res.statusCode, 401)
    assert.deepEqual(json(res.body), { code: 'ERR_UNAUTHENTICATED', message: 'authentication required' })
    assert.equal(writes('a'), 0)
  })

  it('fail/unknown output: 400 naming it', async () => {
    const { handler, writes } = await handlerUnderTest()
    const res = await handler(
      urlEvent({ method: 'POST', path: '/v1/reissue', body: { outputs: ['x'] }, userArn: OPS }),
    )
    assert.equal(res.statusCode, 400)
    assert.deepEqual(json(res.body), { code: 'ERR_NOT_FOUND', message: 'unknown outputs: x' })
    assert.equal(writes('a'), 0)
  })

  it('ok/idempotent retry: one issuance', async () => {
    const { handler, writes } = await handlerUnderTest()
    const event = urlEvent({
      method: 'POST',
      path: '/v1/reissue',
      body: { outputs: ['b'] },
      headers: { 'idempotency-key': 'retry-1' },
      userArn: OPS,
    })
    const first = await handler(event)
    const second = await handler(event)
    assert.equal(first.statusCode, 200)
    assert.deepEqual(json(second.body), json(first.body))
    assert.equal(writes('b'), 1)
  })

  it('fail/rate limit per principal: 429 after 6 in a minute', async () => {
    const { handler } = await handlerUnderTest()
    const event = urlEvent({ method: 'POST', path: '/v1/reissue', body: { outputs: ['a'] }, userArn: OPS })
    for (let i = 0; i < 6; i++) assert.equal((await handler(event)).statusCode, 200)
    const throttled = await handler(event)
    assert.equal(throttled.statusCode, 429)
    assert.equal(json(throttled.body).code, 'ERR_THROTTLED')
  })
})

describe('reissue Lambda config', () => {
  it('ok/allowed ARNs are comma-separated globs', () => {
    assert.deepEqual(parseAllowedArns(' arn:aws:iam::1:role/a , arn:aws:sts::1:assumed-role/b/*,'), [
      'arn:aws:iam::1:role/a',
      'arn:aws:sts::1:assumed-role/b/*',
    ])
  })

  it('fail/an empty or non-ARN list, or none at all, is a config error naming the variable', () => {
    for (const text of ['', ' , ', 'role/ops']) {
      assert.throws(() => parseAllowedArns(text), { code: 'ERR_INVALID_CONFIG' })
    }
    assert.throws(
      () => loadReissueLambdaConfig({ AWS_REGION: 'us-east-1' }, '/'),
      (err: Error) => {
        assert.match(err.message, /CREDBROKER_REISSUE_ALLOWED_ARNS/)
        return true
      },
    )
  })
})
