/**
 * Reads a request body once, as bytes, with a size limit. On Node (`@hono/node-server`) it reads
 * the IncomingMessage directly: building a Web `Request` just to get its bytes costs about a
 * tenth of an issuance. Elsewhere (Lambda, `app.request` in tests) it uses the Web API.
 */
import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import { TooLargeError } from '../errors.ts'

const EMPTY = new Uint8Array(0)

export async function readBody(c: Context, limit: number): Promise<Uint8Array> {
  if (c.req.method === 'GET' || c.req.method === 'HEAD') return EMPTY
  const declared = Number(c.req.header('content-length') ?? 0)
  if (declared > limit) throw tooLarge(limit)
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  if (incoming !== undefined && typeof incoming.on === 'function') return readStream(incoming, limit)
  const bytes = new Uint8Array(await c.req.arrayBuffer())
  if (bytes.length > limit) throw tooLarge(limit)
  return bytes
}

async function readStream(incoming: IncomingMessage, limit: number): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of incoming) {
    size += (chunk as Buffer).length
    if (size > limit) {
      incoming.destroy()
      throw tooLarge(limit)
    }
    chunks.push(chunk as Buffer)
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)
}

const tooLarge = (limit: number) => new TooLargeError(`request body exceeds ${limit} bytes`)
