import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { createNodeStsTransport } from '../../../lib/join/iam/transport.ts'

const HOST = 'sts.us-east-1.amazonaws.com'
const BODY = 'Action=GetCallerIdentity&Version=2011-06-15'

describe('node STS transport', () => {
  let server: Server
  let port = 0
  const seen: { host?: string | undefined; body: string; url?: string | undefined }[] = []
  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = ''
      req.on('data', (c: Buffer) => {
        body += c.toString()
      })
      req.on('end', () => {
        seen.push({ host: req.headers.host, body, url: req.url })
        const mode = req.headers['x-mode']
        if (mode === 'stall') return // never answers
        if (mode === 'flood') {
          const chunk = Buffer.alloc(16 * 1024, 0x41)
          for (let i = 0; i < 8; i++) res.write(chunk)
          res.end()
          return
        }
        if (mode === 'redirect') {
          res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end()
          return
        }
        res.writeHead(200, { 'content-type': 'text/xml' }).end('<ok/>')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  after(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  const transport = (timeoutMs = 2000) =>
    createNodeStsTransport({
      endpointOverrides: new Map([[HOST, new URL(`http://127.0.0.1:${port}`)]]),
      timeoutMs,
      maxResponseBytes: 64 * 1024,
    })
  const request = (mode?: string) => ({
    url: `https://${HOST}/`,
    method: 'POST',
    headers: {
      Host: HOST,
      'content-type': 'application/x-www-form-urlencoded',
      ...(mode && { 'x-mode': mode }),
    },
    body: BODY,
  })

  it('ok/sends to the override with the signed Host header, body verbatim', async () => {
    const res = await transport().send(request())
    assert.equal(res.status, 200)
    assert.equal(Buffer.from(res.body).toString(), '<ok/>')
    const last = seen.at(-1)
    assert.equal(last?.host, HOST)
    assert.equal(last?.body, BODY)
    assert.equal(last?.url, '/')
  })

  it('ok/a redirect is not followed: just a status', async () => {
    const res = await transport().send(request('redirect'))
    assert.equal(res.status, 302)
  })

  it('fail/a stalled STS times out with ERR_IAM_STS_UNAVAILABLE', async () => {
    const started = performance.now()
    await assert.rejects(transport(200).send(request('stall')), { code: 'ERR_IAM_STS_UNAVAILABLE' })
    assert.ok(performance.now() - started < 2000)
  })

  it('fail/an answer over the size limit is ERR_IAM_STS_INVALID_RESPONSE', async () => {
    await assert.rejects(transport().send(request('flood')), { code: 'ERR_IAM_STS_INVALID_RESPONSE' })
  })

  it('fail/an unreachable STS is ERR_IAM_STS_UNAVAILABLE', async () => {
    const dead = createNodeStsTransport({
      endpointOverrides: new Map([[HOST, new URL('http://127.0.0.1:1')]]),
    })
    await assert.rejects(dead.send(request()), { code: 'ERR_IAM_STS_UNAVAILABLE' })
  })
})
