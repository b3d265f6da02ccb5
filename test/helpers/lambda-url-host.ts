/**
 * A local stand-in for a Lambda Function URL, run as a child process (a function's own process,
 * with its own environment, as on Lambda): imports a handler module, listens on 127.0.0.1, turns
 * each HTTP request into a Function URL event (payload format 2.0) and the handler's result back
 * into an HTTP response.
 *
 * Usage: node --import tsx test/helpers/lambda-url-host.ts <handler module> <port>
 * Prints `ready <port>` on stdout once listening.
 *
 * Faithful to the documented format: lower-case header names with repeated values comma-joined,
 * cookies apart, `rawPath`/`rawQueryString`, `requestContext.http` with the source IP, a body
 * base64-encoded unless its content type is textual, and results either an object
 * (`statusCode`, `headers`, `cookies`, `body`, `isBase64Encoded`) or a bare value sent as JSON.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const [modulePath, portText] = process.argv.slice(2)
if (modulePath === undefined || portText === undefined) {
  console.error('usage: lambda-url-host.ts <handler module> <port>')
  process.exit(2)
}
const TEXTUAL = /^(text\/|application\/(json|[\w.+-]+\+json|x-www-form-urlencoded|yaml))/i
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024

type Handler = (event: unknown, context: unknown) => Promise<unknown>
const { handler } = (await import(pathToFileURL(resolve(modulePath)).href)) as { handler: Handler }
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'credbroker-function'

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_PAYLOAD_BYTES) throw new Error('payload too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function eventOf(req: IncomingMessage, body: Buffer, port: number) {
  const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`)
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (name === 'cookie' || value === undefined) continue
    headers[name] = Array.isArray(value) ? value.join(',') : value
  }
  const cookies = req.headers.cookie?.split(/;\s*/).filter((c) => c !== '')
  const textual = TEXTUAL.test(req.headers['content-type'] ?? '')
  const now = new Date()
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    ...(cookies && cookies.length > 0 && { cookies }),
    headers,
    ...(url.search !== '' && { queryStringParameters: Object.fromEntries(url.searchParams) }),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'credbrokertest',
      domainName: `credbrokertest.lambda-url.us-east-1.on.aws`,
      domainPrefix: 'credbrokertest',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: req.headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 && {
      body: textual ? body.toString('utf8') : body.toString('base64'),
    }),
    isBase64Encoded: body.length > 0 && !textual,
  }
}

function contextOf() {
  const deadline = Date.now() + 30_000
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  }
}

const port = Number(portText)
const server = createServer(async (req, res) => {
  try {
    const body = await readBody(req)
    const result = (await handler(eventOf(req, body, port), contextOf())) as Record<string, unknown> | string
    if (typeof result !== 'object' || result === null || !('statusCode' in result)) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result))
      return
    }
    const headers = { ...(result.headers as Record<string, string> | undefined) }
    const cookies = result.cookies as string[] | undefined
    res.writeHead(Number(result.statusCode), {
      ...headers,
      ...(cookies && cookies.length > 0 && { 'set-cookie': cookies }),
    })
    const text = typeof result.body === 'string' ? result.body : ''
    res.end(result.isBase64Encoded ? Buffer.from(text, 'base64') : text)
  } catch (err) {
    // An unhandled error in the function: Lambda answers 502 without details.
    console.error(err)
    res.writeHead(502, { 'content-type': 'application/json' }).end('{"Message":"Internal Server Error"}')
  }
})
server.listen(port, '127.0.0.1', () => console.log(`ready ${port}`))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
