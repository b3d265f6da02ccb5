/**
 * Lambda Function URL events (payload format 2.0) to Fetch API requests and back, so the Hono
 * auth app runs unchanged behind a Function URL.
 *
 * - The request URL is `<origin><rawPath>?<rawQueryString>`, where the origin is the configured
 *   public address or else `https://<requestContext.domainName>`: proofs of possession sign the
 *   URL the client addressed, which differs from the Function URL behind a custom domain.
 * - Headers arrive lower-cased, repeated values comma-joined; cookies arrive apart and are put
 *   back into one `cookie` header. A base64 body (`isBase64Encoded`) is decoded to bytes.
 * - Responses whose content type is text or JSON are returned as text; anything else as base64.
 *   `set-cookie` headers go to `cookies`, as the payload format requires.
 */
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda'

export type FunctionUrlEvent = LambdaFunctionURLEvent
export type FunctionUrlResult = Exclude<LambdaFunctionURLResult, string>

/** A text body is returned as is; everything else is base64. */
const TEXTUAL = /^(text\/|application\/(json|[\w.+-]+\+json|x-www-form-urlencoded|yaml|x-pem-file))/i

/**
 * @throws TypeError when the event is not a Function URL (2.0) HTTP event: a misrouted trigger
 *   is a deployment error, not a client's.
 */
export function requestFromEvent(event: FunctionUrlEvent, publicOrigin?: string): Request {
  const http = event?.requestContext?.http
  if (event?.version !== '2.0' || typeof http?.method !== 'string' || typeof event.rawPath !== 'string') {
    throw new TypeError('not a Lambda Function URL (payload 2.0) event')
  }
  const origin = publicOrigin ?? `https://${event.requestContext.domainName}`
  const query = event.rawQueryString ? `?${event.rawQueryString}` : ''
  const headers = new Headers()
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers.set(name, value)
  }
  if (event.cookies && event.cookies.length > 0) headers.set('cookie', event.cookies.join('; '))
  const method = http.method.toUpperCase()
  const hasBody = method !== 'GET' && method !== 'HEAD' && event.body !== undefined
  const body = hasBody ? Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8') : undefined
  return new Request(`${origin}${event.rawPath}${query}`, {
    method,
    headers,
    ...(body !== undefined && { body }),
  })
}

export async function resultFromResponse(response: Response): Promise<FunctionUrlResult> {
  const headers: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value
  })
  const cookies = response.headers.getSetCookie()
  const bytes = Buffer.from(await response.arrayBuffer())
  const textual = TEXTUAL.test(response.headers.get('content-type') ?? 'text/plain')
  return {
    statusCode: response.status,
    headers,
    body: textual ? bytes.toString('utf8') : bytes.toString('base64'),
    isBase64Encoded: !textual,
    ...(cookies.length > 0 && { cookies }),
  }
}
