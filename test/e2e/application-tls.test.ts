/**
 * The `application` output presented to a real HTTPS server on 127.0.0.1 that requires client
 * certificates from our user CA (the app behind credbroker): the output's `tls.crt`/`tls.key`
 * are accepted and carry the route to the app, `tls.cas` verifies the server, a certificate from
 * another CA is refused in the handshake, and `openssl verify` accepts the certificate.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { MemoryKeyStore } from '../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../lib/adapters/memory/store.ts'
import { parseCallerPublicKey } from '../../lib/auth/public-key.ts'
import { loadOrCreateAuthorities } from '../../lib/ca/authorities.ts'
import { issueUserCertificates } from '../../lib/ca/issue-user-certificates.ts'
import { systemClock } from '../../lib/clock.ts'
import { decodeIdentity } from '../../lib/identity/x509-encoding.ts'
import { cryptoRandom } from '../../lib/random.ts'
import {
  type BotRun,
  type LoopbackAuth,
  outputResult,
  runBotOnce,
  startLoopbackAuth,
} from '../helpers/loopback-bot.ts'
import { httpsGet, type MtlsServer, startMtlsServer } from '../helpers/mtls-server.ts'
import { opensslVerify } from '../helpers/openssl.ts'

const appRole = (name: string, allow: Record<string, unknown>) => ({
  kind: 'role',
  version: 'v1',
  metadata: { name },
  spec: { allow },
})
/** How a TLS 1.3 client learns that the server refused its certificate (see the refusal tests). */
const TLS13_REFUSED = new Set([
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ECONNRESET',
])

const readApps = [{ resources: ['app'], verbs: ['read', 'list'] }]

const roles = [
  appRole('grafana-user', { app_labels: { team: ['observability'] }, rules: readApps }),
  // Hidden by labels: a read/list rule, but a selector that does not match grafana.
  appRole('billing-apps', { app_labels: { team: ['billing'] }, rules: readApps }),
  // Hidden by the missing rule: the labels match, but no read/list on app.
  appRole('grafana-no-rule', { app_labels: { '*': ['*'] } }),
]

describe('e2e: application output accepted by a real HTTPS server', { timeout: 60_000 }, () => {
  let dir: string
  let auth: LoopbackAuth
  let server: MtlsServer
  let run: BotRun
  const out = (file: string) => readFileSync(join(dir, 'grafana', file), 'utf8')

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credbroker-app-e2e-'))
    auth = await startLoopbackAuth({ clusterName: 'e2e.local', documents: roles })
    const { cas } = auth.service.deps
    server = await startMtlsServer({
      serverCa: cas.host,
      clientCaPems: cas.user.trustedTlsPems,
      respond: (peer) => {
        const identity = decodeIdentity(peer.raw)
        return { subject: peer.subject.CN, user: identity.user, routes: identity.routes }
      },
    })
    await auth.service.deps.resources.create({
      kind: 'app',
      version: 'v1',
      metadata: { name: 'grafana', labels: { team: 'observability', env: 'prod' } },
      spec: { uri: server.url },
    })
    const app = (name: string, appRoles: string[]) => ({
      type: 'application',
      name,
      app_name: 'grafana',
      specific_tls_naming: true,
      roles: appRoles,
      destination: { type: 'directory', path: name },
    })
    run = await runBotOnce(auth, {
      bot: 'apps',
      roles: roles.map((r) => r.metadata.name),
      baseDir: dir,
      outputs: [
        app('grafana', ['grafana-user']),
        app('hidden-by-labels', ['billing-apps']),
        app('hidden-by-rule', ['grafana-no-rule']),
      ],
    })
    assert.equal(outputResult(run, 'grafana').ok, true, JSON.stringify(outputResult(run, 'grafana')))
  })

  after(async () => {
    await server?.close()
    await auth?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('ok/writes tls.crt, tls.key and tls.cas beside the identity file names', () => {
    assert.equal(out('tls.crt'), out('tlscert'))
    assert.equal(out('tls.key'), out('key'))
    assert.equal(out('tls.cas'), auth.service.deps.cas.host.trustedTlsPems.join(''))
  })

  it('ok/the server accepts tls.crt and sees the identity routed to app grafana', async () => {
    const before = server.accepted.length

    const res = await httpsGet(server.url, { cert: out('tls.crt'), key: out('tls.key'), ca: out('tls.cas') })

    assert.equal(res.status, 200)
    assert.deepEqual(JSON.parse(res.body), {
      subject: 'bot-apps',
      user: 'bot-apps',
      routes: { app: 'grafana' },
    })
    assert.equal(server.accepted.length, before + 1)
  })

  it('fail/a client certificate with the same identity from another CA is refused by TLS', async () => {
    // Prepare: the very identity the output carries, signed by a CA the server does not trust.
    const rogue = await loadOrCreateAuthorities({
      store: new MemoryStore(),
      keys: new MemoryKeyStore(),
      clusterName: 'rogue.local',
      clock: systemClock,
      random: cryptoRandom,
    })
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const now = new Date()
    const forged = await issueUserCertificates(
      rogue.user,
      {
        identity: decodeIdentity(new X509Certificate(out('tls.crt')).raw),
        publicKey: parseCallerPublicKey(key.publicKey.export({ type: 'spki', format: 'pem' })),
        now,
        notAfter: new Date(now.getTime() + 3_600_000),
      },
      cryptoRandom,
    )
    const accepted = server.accepted.length
    const refusals = server.refused.length

    // Act
    const attempt = httpsGet(server.url, {
      cert: forged.tlsCertPem,
      key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      ca: out('tls.cas'),
    })

    // Assess: the server's verification failed, so no request reached the handler. In TLS 1.3 the
    // server checks the client certificate after the client finished its handshake, and node drops
    // such a connection without an alert: the client sees a reset (or an alert, with other servers).
    await assert.rejects(attempt, (err: NodeJS.ErrnoException) => TLS13_REFUSED.has(err.code ?? ''))
    const refusal = await server.waitForRefusal(refusals)
    // OpenSSL's X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: the issuer is not among the trusted CAs.
    assert.equal(refusal.authorizationError, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')
    assert.equal(server.accepted.length, accepted)
  })

  it('fail/a client without a certificate is refused by TLS', async () => {
    const accepted = server.accepted.length
    const refusals = server.refused.length

    await assert.rejects(httpsGet(server.url, { ca: out('tls.cas') }), (err: NodeJS.ErrnoException) =>
      TLS13_REFUSED.has(err.code ?? ''),
    )
    const refusal = await server.waitForRefusal(refusals)
    assert.equal((refusal.error as NodeJS.ErrnoException).code, 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE')
    assert.equal(server.accepted.length, accepted)
  })

  it('ok/openssl verify accepts the certificate against the user CA for client use', async () => {
    const result = await opensslVerify({
      caPems: auth.service.deps.cas.user.trustedTlsPems,
      leafPem: out('tls.crt'),
      purpose: 'sslclient',
    })
    assert.equal(result.ok, true, result.output)
  })

  for (const [name, why] of [
    ['hidden-by-labels', 'no app_labels match'],
    ['hidden-by-rule', 'no read/list rule on app'],
  ] as const) {
    it(`fail/an app the roles cannot see is not found (${why})`, () => {
      const result = outputResult(run, name)

      assert.ok(!result.ok)
      assert.equal(result.code, 'ERR_NOT_FOUND')
      assert.equal(result.message, 'application "grafana" not found')
    })
  }
})
