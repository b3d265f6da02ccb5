/**
 * The port through which the auth service sends a bot's signed GetCallerIdentity request to STS,
 * and its default adapter on `node:https`.
 *
 * The adapter sends the request to the host the (already checked) URL names, with the Host header
 * the bot signed, and:
 * - follows no redirects: a 3xx is just a status other than 200;
 * - gives up after `timeoutMs` (default {@link DEFAULT_STS_TIMEOUT_MS}): `ERR_IAM_STS_UNAVAILABLE`,
 *   as is any connection failure;
 * - reads at most `maxResponseBytes` (default {@link DEFAULT_STS_MAX_RESPONSE_BYTES}) of the
 *   answer: `ERR_IAM_STS_INVALID_RESPONSE` beyond that.
 *
 * `endpointOverrides` maps an STS host to another base URL (tests: `sts.us-east-1.amazonaws.com` →
 * `http://127.0.0.1:<moto port>`); the Host header stays the signed one. Node's fetch cannot do
 * this: it drops a caller-set Host header.
 */
import http from 'node:http'
import https from 'node:https'
import { IamJoinError } from '../../errors.ts'

export interface StsHttpRequest {
  readonly url: string
  readonly method: string
  /** Sent as given (names as written); a missing Host header is the URL's host. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

export interface StsHttpResponse {
  readonly status: number
  readonly body: Uint8Array
}

export interface StsTransport {
  /**
   * @throws IamJoinError `ERR_IAM_STS_UNAVAILABLE` (unreachable, too slow) or
   *   `ERR_IAM_STS_INVALID_RESPONSE` (answer too large)
   */
  send(request: StsHttpRequest): Promise<StsHttpResponse>
}

export const DEFAULT_STS_TIMEOUT_MS = 10_000
export const DEFAULT_STS_MAX_RESPONSE_BYTES = 64 * 1024

export interface NodeStsTransportOptions {
  readonly endpointOverrides?: ReadonlyMap<string, URL>
  readonly timeoutMs?: number
  readonly maxResponseBytes?: number
}

export function createNodeStsTransport(options: NodeStsTransportOptions = {}): StsTransport {
  const timeoutMs = options.timeoutMs ?? DEFAULT_STS_TIMEOUT_MS
  const maxBytes = options.maxResponseBytes ?? DEFAULT_STS_MAX_RESPONSE_BYTES
  const overrides = options.endpointOverrides ?? new Map<string, URL>()
  return {
    send: (request) => {
      const url = new URL(request.url)
      const target = overrides.get(url.hostname) ?? url
      const headers: Record<string, string> = { ...request.headers }
      if (!Object.keys(headers).some((name) => name.toLowerCase() === 'host')) headers.host = url.host
      const secure = target.protocol === 'https:'
      const requestOptions: https.RequestOptions = {
        protocol: target.protocol,
        hostname: target.hostname.replace(/^\[|\]$/g, ''),
        port: target.port === '' ? (secure ? 443 : 80) : Number(target.port),
        path: '/',
        method: request.method,
        headers,
        ...(secure && { servername: url.hostname }),
      }
      return exchange(
        secure ? https.request : http.request,
        requestOptions,
        request.body,
        timeoutMs,
        maxBytes,
      )
    },
  }
}

type RequestFn = (
  options: https.RequestOptions,
  callback: (res: http.IncomingMessage) => void,
) => http.ClientRequest

function exchange(
  request: RequestFn,
  options: https.RequestOptions,
  body: string,
  timeoutMs: number,
  maxBytes: number,
): Promise<StsHttpResponse> {
  return new Promise((resolve, reject) => {
    let settled = false
    const finish = (err: IamJoinError | undefined, value?: StsHttpResponse) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (err) {
        req.destroy()
        reject(err)
      } else if (value) resolve(value)
    }
    const req = request(options, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > maxBytes) {
          res.destroy()
          finish(new IamJoinError('ERR_IAM_STS_INVALID_RESPONSE', `STS answered more than ${maxBytes} bytes`))
          return
        }
        chunks.push(chunk)
      })
      res.on('end', () =>
        finish(undefined, { status: res.statusCode ?? 0, body: new Uint8Array(Buffer.concat(chunks)) }),
      )
      res.on('error', (err) => finish(unavailable('STS broke off its answer', err)))
    })
    const timer = setTimeout(
      () => finish(unavailable(`STS did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    )
    req.on('error', (err) => finish(unavailable('STS is unreachable', err)))
    req.end(body)
  })
}

function unavailable(message: string, cause?: unknown): IamJoinError {
  return new IamJoinError('ERR_IAM_STS_UNAVAILABLE', message, cause === undefined ? {} : { cause })
}
