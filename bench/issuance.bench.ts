/**
 * Identity issuances per second through the HTTP API: a bot holding a joined identity requests
 * impersonated certificates (X.509 + SSH, proof of possession on every request) with C requests
 * in flight against an auth service in another process, with the CA keys in memory or in KMS on
 * a local moto server. The same run measures the raw ECDSA P-256 signing rate of this machine,
 * for the ratio, and the latency of one raw KMS Sign request on moto.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { generateKeyPairSync, sign } from 'node:crypto'
import { cpus } from 'node:os'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { AuthClient } from '../lib/bot/auth-client.ts'
import { generateClientKey } from '../lib/bot/keys.ts'
import { nodeHttpFetch } from './http-fetch.ts'
import type { KmsOnMoto } from './kms-moto.ts'
import { type Measurement, measure } from './measure.ts'
import type { BenchSection } from './store.bench.ts'

const CONCURRENCY = 32

type ServerKind = 'memory' | 'embedded' | 'kms'

const LABELS: Record<ServerKind, string> = {
  memory: 'memory store',
  embedded: 'embedded store',
  kms: 'memory store + CA keys in KMS on moto',
}

/** CPU microseconds per operation: this process, another process, and the rest of the machine. */
interface CpuPerOp {
  /** The auth server's process (issuance rows only). */
  server: number
  /** This process: the load generator, or the KMS client of the raw Sign rows. */
  client: number
  /** Busy time of every core minus the two above: mostly moto when it runs. */
  rest: number
  /** Busy share of all cores over the measured window, 0 to 1. */
  busy: number
}

interface BenchServer {
  child: ChildProcess
  url: string
  token: string
  /** The server process's CPU time so far, in microseconds. */
  cpuMicros(): Promise<number>
}

async function startServer(kind: ServerKind, kms: KmsOnMoto | undefined): Promise<BenchServer> {
  const env = kms ? { ...process.env, CREDBROKER_BENCH_KMS: JSON.stringify(kms.config) } : process.env
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/issuance-server.ts', kind], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env,
  })
  const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> })
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      lines.once('line', resolve)
      child.once('exit', (code) => reject(new Error(`benchmark server (${kind}) exited with ${code}`)))
    })
  const ready = JSON.parse(await nextLine()) as { url: string; token: string }
  const cpuMicros = async () => {
    const line = nextLine()
    child.kill('SIGUSR2')
    return (JSON.parse(await line) as { cpuMicros: number }).cpuMicros
  }
  return { child, ...ready, cpuMicros }
}

/** Busy (non-idle) CPU time of all cores so far, in microseconds. */
function machineBusyMicros(): number {
  return cpus().reduce((sum, c) => sum + (c.times.user + c.times.nice + c.times.sys + c.times.irq) * 1000, 0)
}

/** Starts a CPU account; `stop(ops, serverMicros)` divides what was used by `ops`. */
function cpuAccount() {
  const client = process.cpuUsage()
  const busy = machineBusyMicros()
  const t0 = performance.now()
  return (ops: number, serverMicros = 0): CpuPerOp => {
    const c = process.cpuUsage(client)
    const clientMicros = c.user + c.system
    const busyMicros = machineBusyMicros() - busy
    const wallMicros = (performance.now() - t0) * 1000
    return {
      server: serverMicros / ops,
      client: clientMicros / ops,
      rest: Math.max(0, busyMicros - serverMicros - clientMicros) / ops,
      busy: busyMicros / (wallMicros * cpus().length),
    }
  }
}

interface RateOptions {
  kind: ServerKind
  concurrency: number
  seconds: number
  kms?: KmsOnMoto
}

async function issuanceRate(
  { kind, concurrency, seconds, kms }: RateOptions,
  cpu: Map<string, CpuPerOp>,
): Promise<Measurement> {
  const server = await startServer(kind, kms)
  try {
    const client = new AuthClient({ baseUrl: server.url, fetch: nodeHttpFetch(concurrency) })
    const botKey = generateClientKey()
    const joined = await client.join(server.token, botKey.publicPem, 3600)
    const identity = { key: botKey.privateKey, tlsCertPem: joined.tls_cert }
    const outputKey = generateClientKey() // the server's cost does not depend on the key's freshness
    const request = () =>
      client.certs(identity, { publicKeyPem: outputKey.publicPem, roles: ['access'], ttlSeconds: 3600 })
    for (let i = 0; i < (kind === 'kms' ? 50 : 200); i++) await request() // warm-up
    const latencies: number[] = []
    const cpuBefore = await server.cpuMicros()
    const account = cpuAccount()
    const deadline = performance.now() + seconds * 1000
    const start = performance.now()
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const t0 = performance.now()
          await request()
          latencies.push(performance.now() - t0)
        }
      }),
    )
    const elapsed = (performance.now() - start) / 1000
    const serverCpu = (await server.cpuMicros()) - cpuBefore
    const name = `identity issuance over HTTP, ${LABELS[kind]}, ${concurrency} in flight`
    cpu.set(name, account(latencies.length, serverCpu))
    latencies.sort((a, b) => a - b)
    const pct = (p: number) => Math.round((latencies[Math.floor(latencies.length * p)] ?? 0) * 1000)
    return {
      name,
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

/**
 * Raw KMS Sign requests on moto, sequential: one at a time with SigV4 checking on, two at once
 * (as an issuance sends them), and one at a time with moto checking no signatures.
 */
async function kmsSignRows(kms: KmsOnMoto, seconds: number, cpu: Map<string, CpuPerOp>) {
  const message = new Uint8Array(400).fill(7) // about the size of a TBSCertificate
  const warmup = 50
  const measured = async (name: string, op: () => Promise<unknown>, signs: number) => {
    const account = cpuAccount()
    const m = await measure(name, op, { seconds, warmup })
    cpu.set(name, account((m.ops + warmup) * signs))
    return m
  }
  const one = await measured(
    'raw KMS Sign on moto (ECDSA_SHA_256, RAW, 1 in flight, SigV4 + IAM checked)',
    () => kms.sign(message),
    1,
  )
  const pair = await measured(
    'raw KMS Sign on moto, 2 at once (as an issuance sends them)',
    () => Promise.all([kms.sign(message), kms.sign(message)]),
    2,
  )
  await kms.setAuth(false)
  try {
    const unchecked = await measured(
      'raw KMS Sign on moto (1 in flight, moto checking no signatures)',
      () => kms.sign(message),
      1,
    )
    return { one, pair, unchecked }
  } finally {
    await kms.setAuth(true)
  }
}

export async function issuanceBench(seconds: number, kms: KmsOnMoto): Promise<BenchSection> {
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
  const cpu = new Map<string, CpuPerOp>()
  const sign1 = await kmsSignRows(kms, seconds, cpu)
  const memory = await issuanceRate({ kind: 'memory', concurrency: CONCURRENCY, seconds }, cpu)
  const embedded = await issuanceRate({ kind: 'embedded', concurrency: CONCURRENCY, seconds }, cpu)
  const kmsRate = await issuanceRate({ kind: 'kms', concurrency: CONCURRENCY, seconds, kms }, cpu)
  const memorySequential = await issuanceRate({ kind: 'memory', concurrency: 1, seconds }, cpu)
  const kmsSequential = await issuanceRate({ kind: 'kms', concurrency: 1, seconds, kms }, cpu)
  return {
    title: 'Identity issuance through the HTTP API',
    notes: notes({ raw, memory, embedded, kmsRate, memorySequential, kmsSequential, ...sign1 }, cpu),
    rows: [
      raw,
      sign1.one,
      sign1.pair,
      sign1.unchecked,
      memory,
      embedded,
      kmsRate,
      memorySequential,
      kmsSequential,
    ],
  }
}

type Rows = Record<
  | 'raw'
  | 'one'
  | 'pair'
  | 'unchecked'
  | 'memory'
  | 'embedded'
  | 'kmsRate'
  | 'memorySequential'
  | 'kmsSequential',
  Measurement
>

function notes(r: Rows, cpu: Map<string, CpuPerOp>): string {
  const us = (n: number | undefined) => `${Math.round(n ?? 0)} µs`
  const ms = (n: number) => `${(n / 1000).toFixed(1)} ms`
  const of = (m: Measurement) => cpu.get(m.name)
  const issuanceCpu = (m: Measurement) => `server ${us(of(m)?.server)}, load generator ${us(of(m)?.client)}`
  const ratio = (m: Measurement) => (r.raw.perSecond / m.perSecond).toFixed(1)
  const kms = of(r.kmsRate)
  return [
    'Each issuance: proof-of-possession verification (ES256 JWS, certificate chain, replay record),',
    'lock check, RBAC impersonation check, an X.509 client certificate and an OpenSSH certificate,',
    'an audit event in the store and the log. With the CA keys in memory the X.509 CA is ECDSA P-256',
    'and the SSH CA Ed25519, signed in-process; with the CA keys in KMS both are KMS ECC_NIST_P256',
    'keys, and each issuance makes exactly two kms:Sign requests (one per certificate, sent',
    'concurrently; test/adapters/kms-jwt.test.ts counts them). The server runs in its own process',
    '(one event loop); the load generator (node:http keep-alive, PoP signing) in this one, sharing',
    `the machine's ${cpus().length} cores.`,
    `\n\nCPU per issuance — memory store: ${issuanceCpu(r.memory)}; embedded store:`,
    `${issuanceCpu(r.embedded)}. Raw P-256 signatures per issuance time: memory ${ratio(r.memory)}×,`,
    `embedded ${ratio(r.embedded)}× (raw sign rate ÷ issuance rate).`,
    '\n\n**The KMS rows measure moto, not AWS KMS.** moto is a local Python (Werkzeug) emulator on',
    '127.0.0.1 sharing the cores with everything else; its latency is that of a Python server',
    'over loopback. AWS KMS Sign latency is not measured here (in-region it is typically in the',
    'single-digit milliseconds per Sign; AWS also applies per-account request-rate quotas to',
    'asymmetric signing). moto also answers every request with `Connection: close`, so each Sign',
    'here pays a new TCP connection, which the SDK would keep alive to AWS KMS. All KMS rows but the',
    'last raw Sign row run with moto checking SigV4 signatures and IAM policy (an IAM user allowed',
    'only kms:Sign and kms:GetPublicKey); turning the checking off changes one Sign from',
    `p50 ${ms(r.one.p50Us)} to ${ms(r.unchecked.p50Us)}.`,
    `\n\nPer raw Sign request, the SDK client used ${us(of(r.one)?.client)} of CPU in this process`,
    `(SigV4, middleware, the new connection) and moto with the rest of the machine about`,
    `${us(of(r.one)?.rest)}. Two Sign requests at once took p50 ${ms(r.pair.p50Us)} against`,
    `${ms(r.one.p50Us)} for one${
      r.pair.p50Us > 1.5 * r.one.p50Us
        ? ": moto's per-request work is Python code, which runs one thread at a time"
        : ''
    }. One issuance at a time took p50 ${ms(r.kmsSequential.p50Us)} with the CA keys in KMS on`,
    `moto and ${ms(r.memorySequential.p50Us)} with them in memory. At ${CONCURRENCY} in flight, per`,
    `issuance: ${issuanceCpu(r.kmsRate)}, moto and the rest of the machine ${us(kms?.rest)}, with`,
    `the cores ${Math.round((kms?.busy ?? 0) * 100)}% busy${
      (kms?.busy ?? 0) >= 0.85 ? ': the row is bound by this machine’s CPU, shared with the emulator' : ''
    }. It is no estimate of a deployed auth function's rate.`,
  ].join(' ')
}
