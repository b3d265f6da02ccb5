/**
 * Function URL events (payload format 2.0) to Fetch requests and back: the URL a proof of
 * possession is checked against, headers and cookies, base64 bodies both ways, and refusal of
 * events that are not Function URL requests.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  type FunctionUrlEvent,
  requestFromEvent,
  resultFromResponse,
} from '../../../lib/serverless/function-url.ts'

function event(overrides: Partial<FunctionUrlEvent> = {}): FunctionUrlEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/v1/certs',
    rawQueryString: 'a=1&b=two',
    headers: {
      'content-type': 'application/json',
      'x-multi': 'one,two',
      host: 'abc.lambda-url.eu-west-1.on.aws',
    },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abc',
      domainName: 'abc.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'abc',
      http: {
        method: 'POST',
        path: '/v1/certs',
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.9',
        userAgent: 'x',
      },
      requestId: 'r-1',
      routeKey: '$default',
      stage: '$default',
      time: '22/Nov/2026:12:00:00 +0000',
      timeEpoch: 1_795_000_000_000,
    },
    body: '{"x":1}',
    isBase64Encoded: false,
    ...overrides,
  }
}

describe('requestFromEvent', () => {
  it('ok/the URL is https on the Function URL domain, with path and query as received', async () => {
    const request = requestFromEvent(event())
    assert.equal(request.url, 'https://abc.lambda-url.eu-west-1.on.aws/v1/certs?a=1&b=two')
    assert.equal(request.method, 'POST')
    assert.equal(request.headers.get('x-multi'), 'one,two')
    assert.equal(await request.text(), '{"x":1}')
  })

  it('ok/a configured public origin replaces the Function URL domain (a custom domain in front)', () => {
    const request = requestFromEvent(event(), 'https://auth.example.com')
    assert.equal(request.url, 'https://auth.example.com/v1/certs?a=1&b=two')
  })

  it('ok/a base64 body is decoded to its exact bytes; cookies come back as one header', async () => {
    const bytes = Uint8Array.of(0, 255, 10, 13, 128)
    const request = requestFromEvent(
      event({ body: Buffer.from(bytes).toString('base64'), isBase64Encoded: true, cookies: ['a=1', 'b=2'] }),
    )
    assert.deepEqual(new Uint8Array(await request.arrayBuffer()), bytes)
    assert.equal(request.headers.get('cookie'), 'a=1; b=2')
  })

  it('ok/a GET carries no body even if the event has one', async () => {
    const get = event({ body: 'ignored' })
    get.requestContext.http.method = 'GET'
    const request = requestFromEvent(get)
    assert.equal(request.body, null)
  })

  for (const [label, bad] of [
    [
      'an EventBridge scheduled event',
      { version: '0', source: 'aws.events', 'detail-type': 'Scheduled Event' },
    ],
    ['an API Gateway v1 event', { httpMethod: 'GET', path: '/', requestContext: {} }],
    ['nothing', null],
  ] as const) {
    it(`fail/${label} is a TypeError`, () => {
      assert.throws(() => requestFromEvent(bad as unknown as FunctionUrlEvent), TypeError)
    })
  }
})

describe('resultFromResponse', () => {
  it('ok/JSON stays text, with status and headers', async () => {
    const result = await resultFromResponse(
      new Response('{"code":"ERR_NOT_FOUND"}', {
        status: 404,
        headers: { 'content-type': 'application/json' },
      }),
    )
    assert.equal(result.statusCode, 404)
    assert.equal(result.isBase64Encoded, false)
    assert.equal(result.body, '{"code":"ERR_NOT_FOUND"}')
    assert.equal(result.headers?.['content-type'], 'application/json')
    assert.equal(result.cookies, undefined)
  })

  it('ok/binary bodies are base64; set-cookie headers move to cookies', async () => {
    const headers = new Headers({ 'content-type': 'application/octet-stream' })
    headers.append('set-cookie', 'a=1')
    headers.append('set-cookie', 'b=2')
    const result = await resultFromResponse(new Response(Uint8Array.of(1, 2, 250), { headers }))
    assert.equal(result.isBase64Encoded, true)
    assert.deepEqual([...Buffer.from(result.body ?? '', 'base64')], [1, 2, 250])
    assert.deepEqual(result.cookies, ['a=1', 'b=2'])
    assert.equal(result.headers?.['set-cookie'], undefined)
  })
})
