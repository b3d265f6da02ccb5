/**
 * Identity issuances per second through the HTTP API: a bot holding a joined identity requests
 * impersonated certificates (X.509 + SSH, proof of possession on every request) with C requests
 * in flight against an auth service in another process. The same run measures the raw ECDSA
 * P-256 signing rate of this machine, for the ratio.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { generateKeyPairSync, sign } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { AuthClient } from '../lib/bot/auth-client.ts'
import { generateClientKey } from '../lib/bot/keys.ts'
import { nodeHttpFetch } from './http-fetch.ts'
import { type Measurement, measure } from './measure.ts'
import type { BenchSection } from './store.bench.ts'

const CONCURRENCY = 32

/** CPU microseconds per issuance of the server and of the load generator, per store. */
const cpuPerIssuance = new Map<string, { server: number; client: number }>()

interface BenchServer {
  child: ChildProcess
  url: string
  token: string
  /** The server process's CPU time so far, in microseconds. */
  cpuMicros(): Promise<number>
}

async function startServer(kind: 'memory' | 'embedded'): Promise<BenchServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/issuance-server.ts', kind], {
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> })
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      lines.once('line', resolve)
      child.once('exit', (code) => reject(new Error(`benchmark server exited with ${code}`)))
    })
  const ready = JSON.parse(await nextLine()) as { url: string; token: string }
  const cpuMicros = async () => {
    const line = nextLine()
    child.kill('SIGUSR2')
    return (JSON.parse(await line) as { cpuMicros: number }).cpuMicros
  }
  return { child, ...ready, cpuMicros }
}

async function issuanceRate(kind: 'memory' | 'embedded', seconds: number): Promise<Measurement> {
  const server = await startServer(kind)
  try {
    const client = new AuthClient({ baseUrl: server.url, fetch: nodeHttpFetch(CONCURRENCY) })
    const botKey = generateClientKey()
    const joined = await client.join(server.token, botKey.publicPem, 3600)
    const identity = { key: botKey.privateKey, tlsCertPem: joined.tls_cert }
    const outputKey = generateClientKey() // the server's cost does not depend on the key's freshness
    const request = () =>
      client.certs(identity, { publicKeyPem: outputKey.publicPem, roles: ['access'], ttlSeconds: 3600 })
    for (let i = 0; i < 200; i++) await request() // warm-up
    const latencies: number[] = []
    const cpuBefore = await server.cpuMicros()
    const clientCpuBefore = process.cpuUsage()
    const deadline = performance.now() + seconds * 1000
    const start = performance.now()
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < deadline) {
          const t0 = performance.now()
          await request()
          latencies.push(performance.now() - t0)
        }
      }),
    )
    const elapsed = (performance.now() - start) / 1000
    const serverCpu = (await server.cpuMicros()) - cpuBefore
    const clientCpu = process.cpuUsage(clientCpuBefore)
    cpuPerIssuance.set(kind, {
      server: serverCpu / latencies.length,
      client: (clientCpu.user + clientCpu.system) / latencies.length,
    })
    latencies.sort((a, b) => a - b)
    const pct = (p: number) => Math.round((latencies[Math.floor(latencies.length * p)] ?? 0) * 1000)
    return {
      name: `identity issuance over HTTP, ${kind} store, ${CONCURRENCY} in flight`,
      ops: latencies.length,
      seconds: elapsed,
      perSecond: latencies.length / elapsed,
      p50Us: pct(0.5),
      p99Us: pct(0.99),
    }
  } finally {
    server.child.kill('SIGTERM')
  }
}

export async function issuanceBench(seconds: number): Promise<BenchSection> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const message = Buffer.alloc(400, 7) // about the size of a TBSCertificate
  const raw = await measure(
    'raw ECDSA P-256 sign (node:crypto, one core)',
    () => sign('sha256', message, privateKey),
    {
      seconds,
      warmup: 1000,
    },
  )
  const memory = await issuanceRate('memory', seconds)
  const embedded = await issuanceRate('embedded', seconds)
  const ratio = (m: Measurement) => (raw.perSecond / m.perSecond).toFixed(1)
  const cpu = (kind: string) => {
    const c = cpuPerIssuance.get(kind)
    return c ? `server ${Math.round(c.server)} µs, load generator ${Math.round(c.client)} µs` : 'n/a'
  }
  return {
    title: 'Identity issuance through the HTTP API',
    notes: [
      'Each issuance: proof-of-possession verification (ES256 JWS, certificate chain, replay record),',
      'lock check, RBAC impersonation check, an X.509 client certificate (ECDSA P-256) and an OpenSSH',
      'certificate (Ed25519 CA), an audit event in the store and the log. The server runs in its own',
      'process (one event loop); the load generator (node:http keep-alive, PoP signing) in this one,',
      'sharing the two cores.',
      `\n\nCPU per issuance — memory store: ${cpu('memory')}; embedded store: ${cpu('embedded')}.`,
      `Raw P-256 signatures per issuance time: memory ${ratio(memory)}×, embedded ${ratio(embedded)}×`,
      '(raw sign rate ÷ issuance rate).',
    ].join(' '),
    rows: [raw, memory, embedded],
  }
}
