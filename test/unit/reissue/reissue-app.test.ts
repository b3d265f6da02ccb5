/**
 * The reissue endpoint through `app.request` (and once over HTTP on 127.0.0.1): authorization,
 * unknown outputs, idempotent retries, rate limiting, a reissue concurrent with a scheduled run,
 * and the status of a failing output.
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import { serve } from '@hono/node-server'
import type { CycleResult } from '../../../lib/bot/bot.ts'
import { runDaemon } from '../../../lib/bot/daemon.ts'
import { UpstreamUnavailableError } from '../../../lib/errors.ts'
import { iamAuthorizer, localAuthorizer } from '../../../lib/reissue/authorize.ts'
import { reissueBot } from '../../helpers/reissue-bot.ts'

const TOKEN = 'reissue-test-token'
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
const post = (body: unknown, headers: Record<string, string> = auth) => ({
  method: 'POST',
  headers,
  body: JSON.stringify(body),
})

describe('POST /v1/reissue', () => {
  it('ok/renews the named outputs only and answers per output', async () => {
    const { app, writes } = await reissueBot(localAuthorizer({ token: TOKEN }))
    const res = await app.request('/v1/reissue', post({ outputs: ['a'], reason: 'role change' }))
    assert.equal(res.status, 200)
    const body = (await res.json()) as { ok: boolean; outputs: Array<Record<string, unknown>> }
    assert.equal(body.ok, true)
    assert.deepEqual(
      body.outputs.map((o) => [o.output, o.ok]),
      [['a', true]],
    )
    assert.match(String(body.outputs[0]?.serial), /^[0-9a-f]+$/i)
    assert.ok(Date.parse(String(body.outputs[0]?.not_after)) > 0)
    assert.equal(writes('a'), 1)
    assert.equal(writes('b'), 0)
  })

  it('ok/no outputs means every output', async () => {
    const { app, writes } = await reissueBot(localAuthorizer({ token: TOKEN }))
    const res = await app.request('/v1/reissue', post({}))
    assert.equal(res.status, 200)
    assert.deepEqual([writes('a'), writes('b')], [1, 1])
  })

  for (const [name, headers] of [
    ['no token', { 'content-type': 'application/json' }],
    ['wrong token', { authorization: 'Bearer nope', 'content-type': 'application/json' }],
  ] as const) {
    it(`fail/${name}: 401 with a body that names nothing`, async () => {
      const { app, writes } = await reissueBot(localAuthorizer({ token: TOKEN }))
      const res = await app.request('/v1/reissue', post({ outputs: ['a'] }, headers))
      assert.equal(res.status, 401)
      const text = await res.text()
      assert.deepEqual(JSON.parse(text), { code: 'ERR_UNAUTHENTICATED', message: 'authentication required' })
      assert.equal(writes('a'), 0)
      const status = await app.request('/v1/status', { headers })
      assert.equal(status.status, 401)
      assert.doesNotMatch(await status.text(), /"a"|serial|not_after/)
    })
  }

  it('fail/no token configured and no loopback socket: 403', async () => {
    const { app, writes } = await reissueBot(localAuthorizer({}))
    const res = await app.request('/v1/reissue', post({}))
    assert.equal(res.status, 403)
    assert.deepEqual(await res.json(), { code: 'ERR_ACCESS_DENIED', message: 'not allowed' })
    assert.equal(writes('a'), 0)
  })

  it('fail/unknown outputs: 400 naming them, nothing issued', async () => {
    const { app, writes, runs } = await reissueBot(localAuthorizer({ token: TOKEN }))
    const res = await app.request('/v1/reissue', post({ outputs: ['a', 'nope', 'zz'] }))
    assert.equal(res.status, 400)
    assert.deepEqual(await res.json(), { code: 'ERR_NOT_FOUND', message: 'unknown outputs: nope, zz' })
    assert.equal(writes('a'), 0)
    assert.equal(runs.started, 0)
  })

  it('fail/malformed bodies: 400', async () => {
    const { app } = await reissueBot(localAuthorizer({ token: TOKEN }))
    for (const body of [{ outputs: 'a' }, { outputs: [] }, { other: 1 }, [1]]) {
      const res = await app.request('/v1/reissue', post(body))
      assert.equal(res.status, 400, JSON.stringify(body))
      assert.equal(((await res.json()) as { code: string }).code, 'ERR_BAD_REQUEST')
    }
  })

  it('ok/idempotent retry: same key and body replays the first answer, one issuance', async () => {
    const { app, writes } = await reissueBot(localAuthorizer({ token: TOKEN }))
    const headers = { ...auth, 'idempotency-key': 'k-1' }
    const [first, concurrent] = await Promise.all([
      app.request('/v1/reissue', post({ outputs: ['a'] }, headers)),
      app.request('/v1/reissue', post({ outputs: ['a'] }, headers)),
    ])
    const later = await app.request('/v1/reissue', post({ outputs: ['a'] }, headers))
    const bodies = await Promise.all([first, concurrent, later].map((r) => r.json()))
    assert.deepEqual(bodies[1], bodies[0])
    assert.deepEqual(bodies[2], bodies[0])
    assert.equal(writes('a'), 1)
    const conflict = await app.request('/v1/reissue', post({ outputs: ['b'] }, headers))
    assert.equal(conflict.status, 409)
    assert.equal(((await conflict.json()) as { code: string }).code, 'ERR_ALREADY_EXISTS')
    assert.equal(writes('b'), 0)
  })

  it('fail/rate limit: the 7th reissue in a minute is 429, one more is allowed 10 s later', async () => {
    const { app, h } = await reissueBot(localAuthorizer({ token: TOKEN }))
    for (let i = 0; i < 6; i++) {
      assert.equal((await app.request('/v1/reissue', post({ outputs: ['a'] }))).status, 200)
    }
    const throttled = await app.request('/v1/reissue', post({ outputs: ['a'] }))
    assert.equal(throttled.status, 429)
    assert.equal(((await throttled.json()) as { code: string }).code, 'ERR_THROTTLED')
    h.clock.advance(10_000)
    assert.equal((await app.request('/v1/reissue', post({ outputs: ['a'] }))).status, 200)
  })

  it('ok/a reissue during a scheduled run joins it: exactly one issuance per output', async () => {
    const { app, bot, runs, writes } = await reissueBot(localAuthorizer({ token: TOKEN }))
    const controller = new AbortController()
    const cycles: Array<CycleResult | Error> = []
    const daemon = runDaemon(bot.deps, {
      wake: () => new Promise(() => {}),
      signal: controller.signal,
      sleep: async () => controller.abort(), // one cycle, then stop
      random: () => 0.5,
      onCycle: (r) => cycles.push(r),
      gate: runs,
    })
    for (let i = 0; i < 100 && !runs.busy; i++) await Promise.resolve()
    assert.ok(runs.busy, 'the scheduled cycle is in progress')
    const res = await app.request('/v1/reissue', post({}))
    await daemon
    assert.equal(res.status, 200)
    assert.equal(((await res.json()) as { ok: boolean }).ok, true)
    assert.equal(cycles.length, 1)
    assert.equal(runs.started, 1, 'one run in all')
    assert.equal(runs.joined, 1, 'the reissue joined the scheduled cycle')
    assert.deepEqual([writes('a'), writes('b')], [1, 1])
  })

  it('ok/a reissue for outputs a scheduled run does not cover waits for it, then runs alone', async () => {
    const { app, bot, runs, writes } = await reissueBot(localAuthorizer({ token: TOKEN }))
    let active = 0
    let overlap = false
    const gated = runs.scheduled(undefined, async () => {
      active++
      await Promise.resolve()
      overlap ||= active > 1
      active--
    })
    const res = app.request('/v1/reissue', post({ outputs: ['b'] }))
    await gated
    assert.equal((await res).status, 200)
    assert.equal(overlap, false)
    assert.equal(runs.started, 2)
    assert.deepEqual([writes('a'), writes('b')], [0, 1])
    void bot
  })

  it('ok/over HTTP on 127.0.0.1: loopback without a token is allowed', async () => {
    const { app, writes } = await reissueBot(localAuthorizer({}))
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 })
    try {
      await new Promise((listening) => server.once('listening', listening))
      const { port } = server.address() as AddressInfo
      const res = await fetch(`http://127.0.0.1:${port}/v1/reissue`, post({ outputs: ['b'] }, {}))
      assert.equal(res.status, 200)
      assert.equal(writes('b'), 1)
      const status = await fetch(`http://127.0.0.1:${port}/v1/status`)
      assert.equal(status.status, 200)
    } finally {
      await new Promise((done) => server.close(done))
    }
  })

  it('ok/over HTTP on 127.0.0.1 with a token: wrong token 401, right token 200', async () => {
    const { app, writes } = await reissueBot(localAuthorizer({ token: TOKEN }))
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 })
    try {
      await new Promise((listening) => server.once('listening', listening))
      const { port } = server.address() as AddressInfo
      const url = `http://127.0.0.1:${port}/v1/reissue`
      const denied = await fetch(url, post({}, { authorization: 'Bearer wrong' }))
      assert.equal(denied.status, 401)
      assert.equal(writes('a'), 0)
      assert.equal((await fetch(url, post({}))).status, 200)
      assert.deepEqual([writes('a'), writes('b')], [1, 1])
    } finally {
      await new Promise((done) => server.close(done))
    }
  })

  it('fail/IAM caller not in the allow-list: 403, nothing revealed', async () => {
    const { app, writes } = await reissueBot(
      iamAuthorizer(['arn:aws:sts::123456789012:assumed-role/ops-*/*']),
    )
    const env = { iam: { userArn: 'arn:aws:sts::123456789012:assumed-role/dev/alice' } }
    const res = await app.request('/v1/reissue', post({ outputs: ['a'] }, {}), env)
    assert.equal(res.status, 403)
    assert.deepEqual(await res.json(), { code: 'ERR_ACCESS_DENIED', message: 'not allowed' })
    const ok = { iam: { userArn: 'arn:aws:sts::123456789012:assumed-role/ops-1/bob' } }
    assert.equal((await app.request('/v1/reissue', post({ outputs: ['a'] }, {}), ok)).status, 200)
    assert.equal(writes('a'), 1)
  })
})

describe('GET /v1/status', () => {
  it('ok/a failed output shows its error code until it succeeds again', async () => {
    const { app, bot } = await reissueBot(localAuthorizer({ token: TOKEN }))
    assert.equal((await app.request('/v1/reissue', post({}))).status, 200)
    bot.destinations.get('a')?.failures.push(new UpstreamUnavailableError('secrets manager is down'))
    const failed = await app.request('/v1/reissue', post({}))
    const failedBody = (await failed.json()) as { ok: boolean; outputs: Array<Record<string, unknown>> }
    assert.equal(failedBody.ok, false)
    assert.equal(failedBody.outputs[0]?.code, 'ERR_UPSTREAM_UNAVAILABLE')

    type Status = {
      outputs: Array<{ output: string; not_after?: string; last_error?: { code: string } }>
      identity_not_after?: string
      auth_server: { reachable: boolean }
    }
    const read = async () => (await (await app.request('/v1/status', { headers: auth })).json()) as Status
    let status = await read()
    assert.equal(status.outputs[0]?.last_error?.code, 'ERR_UPSTREAM_UNAVAILABLE')
    assert.ok(status.outputs[0]?.not_after, 'the last success is still reported')
    assert.equal(status.outputs[1]?.last_error, undefined)
    assert.ok(status.identity_not_after)
    assert.equal(status.auth_server.reachable, true)
    status = await read()
    assert.equal(status.outputs[0]?.last_error?.code, 'ERR_UPSTREAM_UNAVAILABLE', 'still failing')

    assert.equal((await app.request('/v1/reissue', post({ outputs: ['a'] }))).status, 200)
    status = await read()
    assert.equal(status.outputs[0]?.last_error, undefined)
  })

  it('ok/an unreachable auth service is reported', async () => {
    const { app, bot } = await reissueBot(localAuthorizer({ token: TOKEN }))
    bot.down = () => true
    const status = (await (await app.request('/v1/status', { headers: auth })).json()) as {
      auth_server: { reachable: boolean }
    }
    assert.equal(status.auth_server.reachable, false)
  })
})
