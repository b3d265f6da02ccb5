/**
 * Where an issuance's time goes: its parts measured one at a time in this process, on the memory
 * store (no HTTP server, no second process). Compare with the full request through `app.request`.
 * The certificate step is measured twice: CA keys in memory, and the user CA's keys in KMS on a
 * local moto server.
 */
import { X509Certificate } from 'node:crypto'
import { resolve } from 'node:path'
import { MemoryKeyStore } from '../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../lib/adapters/memory/store.ts'
import { recordAudit } from '../lib/auth/audit.ts'
import { addJoinToken } from '../lib/auth/bots.ts'
import { issueImpersonated } from '../lib/auth/impersonate.ts'
import { assertNotLocked } from '../lib/auth/locks.ts'
import { createPopSigner } from '../lib/auth/pop/client.ts'
import { verifyPop } from '../lib/auth/pop/verify.ts'
import { parseCallerPublicKey } from '../lib/auth/public-key.ts'
import { createAuthService } from '../lib/auth/service.ts'
import { AuthClient } from '../lib/bot/auth-client.ts'
import { generateClientKey } from '../lib/bot/keys.ts'
import { loadOrCreateAuthorities } from '../lib/ca/authorities.ts'
import { issueUserCertificates } from '../lib/ca/issue-user-certificates.ts'
import { loadDocuments } from '../lib/cli/load-documents.ts'
import { systemClock } from '../lib/clock.ts'
import { decodeIdentity } from '../lib/identity/x509-encoding.ts'
import { silentLogger } from '../lib/log.ts'
import { cryptoRandom } from '../lib/random.ts'
import { applyResources } from '../lib/services/apply.ts'
import type { KmsOnMoto } from './kms-moto.ts'
import { type Measurement, measure } from './measure.ts'
import type { BenchSection } from './store.bench.ts'

export async function issuanceBreakdownBench(seconds: number, kms: KmsOnMoto): Promise<BenchSection> {
  const store = new MemoryStore()
  const service = await createAuthService({
    clusterName: 'bench.local',
    publicAddr: 'http://bench.test',
    store,
    keys: new MemoryKeyStore(),
    clock: systemClock,
    random: cryptoRandom,
    log: silentLogger,
  })
  const deps = service.deps
  await applyResources(deps.resources, loadDocuments(resolve('examples/cluster')))
  const { token } = await addJoinToken(deps, 'example')
  const client = new AuthClient({
    baseUrl: 'http://bench.test',
    fetch: async (u, i) => service.app.request(u, i),
  })
  const botKey = generateClientKey()
  const joined = await client.join(token, botKey.publicPem, 3600)
  const identity = { key: botKey.privateKey, tlsCertPem: joined.tls_cert }
  const leaf = new X509Certificate(joined.tls_cert)
  const caller = { identity: decodeIdentity(leaf.raw), expires: new Date(leaf.validTo) }
  const output = generateClientKey()
  const publicKey = parseCallerPublicKey(output.publicPem)
  const pop = createPopSigner({ key: botKey.privateKey, chain: [leaf.raw] })
  const url = 'http://bench.test/v1/certs'
  const body = new TextEncoder().encode('{"roles":["access"]}')
  const trusted = deps.cas.user.trustedTlsCerts.map((c) => ({ der: c.raw }))
  const opts = { seconds, warmup: 300 }
  const kmsKeys = kms.keyStore()
  const kmsCas = await loadOrCreateAuthorities({
    store: new MemoryStore(),
    keys: kmsKeys,
    clusterName: 'bench.local',
    clock: systemClock,
    random: cryptoRandom,
  })
  const certificates = (ca: typeof kmsCas.user) => () =>
    issueUserCertificates(
      ca,
      { identity: caller.identity, publicKey, now: new Date(), notAfter: new Date(Date.now() + 3_600_000) },
      cryptoRandom,
    )
  const rows: Measurement[] = [
    await measure(
      'whole issuance via app.request (no sockets)',
      () => client.certs(identity, { publicKeyPem: output.publicPem, roles: ['access'], ttlSeconds: 3600 }),
      opts,
    ),
    await measure('client: PoP signature', () => pop.sign({ method: 'POST', url, body }), opts),
    await measure(
      'PoP verification (cached certificate, replay record)',
      async () => {
        const authorization = await pop.sign({ method: 'POST', url, body })
        await verifyPop(
          { method: 'POST', url, headers: { authorization }, body },
          { trustedCas: () => trusted, decodeIdentity, store, clock: systemClock },
        )
      },
      opts,
    ),
    await measure(
      'issueImpersonated (locks, RBAC, TTL, certificates, audit)',
      () => issueImpersonated(deps, caller, { roles: ['access'], ttlMs: 3_600_000, publicKey }),
      opts,
    ),
    await measure('X.509 + OpenSSH certificates (encode + 2 signatures)', certificates(deps.cas.user), opts),
    await measure(
      'same, user CA keys in KMS on moto (encode + 2 concurrent kms:Sign)',
      certificates(kmsCas.user),
      { seconds, warmup: 50 },
    ),
    await measure('lock check (list locks)', () => assertNotLocked(deps, { user: 'bot-example' }), opts),
    await measure(
      'audit event (store + log)',
      () =>
        recordAudit(deps, {
          type: 'cert.issued',
          user: 'bot-example',
          success: true,
          fields: { serial: 'x' },
        }),
      opts,
    ),
    await measure(
      'GET /v1/ping via app.request (framework floor)',
      () => service.app.request('http://bench.test/v1/ping'),
      opts,
    ),
  ]
  kmsKeys.close()
  return {
    title: 'Where an issuance spends its time',
    notes:
      'Parts of one impersonated issuance measured sequentially in one process on the memory store; ' +
      'the PoP verification row includes signing its token (see the client row). The KMS row signs ' +
      'through a local moto server (a Python emulator, SigV4 checked), not AWS KMS; see above.',
    rows,
  }
}
