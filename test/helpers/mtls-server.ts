/**
 * A real HTTPS peer for X.509 outputs: a node:https server on 127.0.0.1 that requires a client
 * certificate chaining to the given CAs (`requestCert` + `rejectUnauthorized`, so a foreign
 * certificate is refused by the TLS layer before any handler runs), and a client that presents
 * one. The server's own certificate is issued by the given CA (our host CA, as an app or a
 * Kubernetes API proxy registered with credbroker would hold) for `127.0.0.1`.
 *
 * @example
 * ```ts
 * const server = await startMtlsServer({
 *   serverCa: deps.cas.host, clientCaPems: deps.cas.user.trustedTlsPems,
 *   respond: (peer) => ({ cn: peer.subject.CN }),
 * })
 * const { status, body } = await httpsGet(server.url, { cert, key, ca: hostCaPem })
 * ```
 */
import { generateKeyPairSync } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { createServer, request, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls'
import type { LoadedCa } from '../../lib/ca/authorities.ts'
import { issueServerCertificate } from '../../lib/ca/issue-server-certificate.ts'
import { cryptoRandom } from '../../lib/random.ts'

const HOST = '127.0.0.1'
const SERVER_CERT_TTL_MS = 3_600_000
/** Upper bound on waiting for a refusal the server must report; never a pacing delay. */
const REFUSAL_WAIT_MS = 5_000

/** A handshake the server refused. */
export interface Refusal {
  readonly error: Error
  /**
   * Why the client certificate failed verification (`UNABLE_TO_GET_ISSUER_CERT_LOCALLY`…), when
   * one was presented. Node then drops the connection without a TLS alert, so `error` is only
   * `ECONNRESET`; this is the verdict that names the cause.
   */
  readonly authorizationError?: string
}

export interface MtlsServer {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string
  readonly port: number
  /** Client certificates of the requests that reached the handler, in order. */
  readonly accepted: readonly DetailedPeerCertificate[]
  /** Handshakes the server refused (`tlsClientError`), in order. */
  readonly refused: readonly Refusal[]
  /** Resolves with refusal number `index` (0-based) once it happened; rejects after 5 s. */
  waitForRefusal(index: number): Promise<Refusal>
  /** Stops the server. Safe to call twice. */
  close(): Promise<void>
}

export interface MtlsServerOptions {
  /** Issues the server's certificate (for `127.0.0.1`). */
  readonly serverCa: LoadedCa
  /** The CAs a client certificate must chain to. */
  readonly clientCaPems: readonly string[]
  /** The JSON body answered to an accepted client, from its certificate. */
  readonly respond: (peer: DetailedPeerCertificate) => unknown
}

export async function startMtlsServer(options: MtlsServerOptions): Promise<MtlsServer> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const now = new Date()
  const serverCert = await issueServerCertificate(
    options.serverCa,
    {
      publicKey: publicKey.export({ type: 'spki', format: 'der' }),
      names: [HOST],
      now,
      notAfter: new Date(now.getTime() + SERVER_CERT_TTL_MS),
    },
    cryptoRandom,
  )
  const accepted: DetailedPeerCertificate[] = []
  const refused: Refusal[] = []
  const server: Server = createServer(
    {
      key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      cert: serverCert.pem,
      ca: [...options.clientCaPems],
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate(true)
      accepted.push(peer)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(options.respond(peer)))
    },
  )
  server.on('tlsClientError', (error, socket) => {
    const reason = socket.authorizationError
    refused.push({ error, ...(reason !== undefined && { authorizationError: String(reason) }) })
    server.emit('refused')
  })
  await new Promise<void>((listening, failed) => {
    server.once('error', failed)
    server.listen(0, HOST, () => listening())
  })
  const { port } = server.address() as AddressInfo
  let closed: Promise<void> | undefined
  return {
    url: `https://${HOST}:${port}`,
    port,
    accepted,
    refused,
    waitForRefusal: (index) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const err = refused[index]
          if (err === undefined) return
          server.off('refused', check)
          clearTimeout(timer)
          resolve(err)
        }
        const timer = setTimeout(() => {
          server.off('refused', check)
          reject(new Error(`the server reported no refusal #${index} within ${REFUSAL_WAIT_MS} ms`))
        }, REFUSAL_WAIT_MS)
        server.on('refused', check)
        check()
      }),
    close() {
      closed ??= new Promise((done) => {
        server.closeAllConnections()
        server.close(() => done())
      })
      return closed
    },
  }
}

export interface HttpsResult {
  readonly status: number
  readonly body: string
}

/**
 * GET `url`, presenting `cert`/`key` (when given) and trusting only `ca` for the server. Rejects
 * with the TLS or socket error when the handshake or the connection fails.
 */
export function httpsGet(
  url: string,
  tls: { readonly cert?: string; readonly key?: string; readonly ca: string },
): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        ca: tls.ca,
        ...(tls.cert !== undefined && { cert: tls.cert }),
        ...(tls.key !== undefined && { key: tls.key }),
        agent: false,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.once('error', reject)
        res.once('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        )
      },
    )
    req.once('error', reject)
    req.end()
  })
}
