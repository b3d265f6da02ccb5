/**
 * A minimal `fetch` over node:http with a keep-alive agent, for the load generator only. Node's
 * global fetch (undici) costs about 1 ms of CPU per request on this machine, more than the auth
 * service spends issuing; with both processes on two cores, the generator would be measured
 * instead of the server.
 */
import { Agent, request } from 'node:http'
import type { Fetch } from '../lib/bot/auth-client.ts'

export function nodeHttpFetch(maxSockets: number): Fetch {
  const agent = new Agent({ keepAlive: true, maxSockets })
  return (input, init) =>
    new Promise((resolve, reject) => {
      const url = new URL(input)
      const headers = Object.fromEntries(new Headers(init?.headers).entries())
      const body = typeof init?.body === 'string' ? Buffer.from(init.body) : undefined
      if (body) headers['content-length'] = String(body.length)
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method: init?.method ?? 'GET',
          headers,
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500 })))
          res.on('error', reject)
        },
      )
      req.on('error', reject)
      req.end(body)
    })
}
