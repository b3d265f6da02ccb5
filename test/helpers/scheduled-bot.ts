/**
 * A bot for schedule tests: the real auth service in memory (`auth-harness.ts`), identity outputs
 * on memory destinations wrapped in a {@link FlakyDestination}, a client whose fetch can be made
 * to fail (as if the service were down), and the certificate expiry of what each destination holds.
 */
import { X509Certificate } from 'node:crypto'
import { MemoryDestination } from '../../lib/adapters/memory/destination.ts'
import { addJoinToken } from '../../lib/auth/bots.ts'
import { AuthClient } from '../../lib/bot/auth-client.ts'
import type { BotDeps } from '../../lib/bot/bot.ts'
import { validateBotConfig } from '../../lib/bot/config.ts'
import { OutputSchedule } from '../../lib/bot/output-schedule.ts'
import { createLogger } from '../../lib/log.ts'
import type { ArtifactContent, Destination, WriteMeta, WriteResult } from '../../lib/ports/destination.ts'
import { type AuthHarness, BASE_URL } from './auth-harness.ts'

/**
 * A memory destination whose writes fail while `failures` holds errors (one taken per write
 * attempt; `undefined` entries let the write through). Counts attempts and successful writes.
 */
export class FlakyDestination implements Destination {
  readonly inner: MemoryDestination
  readonly failures: (Error | undefined)[] = []
  /** Set per write attempt; overrides `failures` when it returns an error. */
  failWith: (() => Error | undefined) | undefined
  attempts = 0
  /** The issuance id of every successful write, in order (one per version written). */
  readonly written: (string | undefined)[] = []

  constructor(label: string) {
    this.inner = new MemoryDestination({ label })
  }

  async write(artifacts: ReadonlyMap<string, ArtifactContent>, meta?: WriteMeta): Promise<WriteResult> {
    this.attempts++
    const err = this.failWith?.() ?? this.failures.shift()
    if (err) throw err
    const written = await this.inner.write(artifacts, meta)
    this.written.push(meta?.issuanceId)
    return written
  }
  read(name: string) {
    return this.inner.read(name)
  }
  readAll() {
    return this.inner.readAll()
  }
  describe() {
    return this.inner.describe()
  }

  /** The notAfter of the TLS certificate this destination holds now, or `undefined` before any write. */
  async certNotAfter(): Promise<Date | undefined> {
    const pem = await this.inner.read('tlscert')
    return pem === undefined ? undefined : new Date(new X509Certificate(Buffer.from(pem)).validTo)
  }
}

export interface ScheduledBot {
  readonly deps: BotDeps
  readonly schedule: OutputSchedule
  readonly destinations: Map<string, FlakyDestination>
  readonly lines: string[]
  /** Requests the client sends, by path (`/v1/certs`: one per issuance). */
  readonly requests: Map<string, number>
  /** Decides, per request, whether the auth service looks down (the client's fetch rejects). */
  down: (path: string) => boolean
}

export interface ScheduledBotOptions {
  /** Top-level fields over the defaults (`credential_ttl`, `renewal_interval`). */
  readonly top?: Record<string, unknown>
  /** Output name → extra output fields (`credential_ttl`). */
  readonly outputs: Readonly<Record<string, Record<string, unknown>>>
}

export async function scheduledBot(h: AuthHarness, options: ScheduledBotOptions): Promise<ScheduledBot> {
  const { token } = await addJoinToken(h.service.deps, 'example', 24 * 3600_000)
  const config = validateBotConfig(
    {
      version: 'v1',
      auth_server: 'http://127.0.0.1:3025',
      onboarding: { join_method: 'token', token },
      storage: { type: 'memory' },
      ...options.top,
      outputs: Object.entries(options.outputs).map(([name, extra]) => ({
        type: 'identity',
        name,
        roles: ['access'],
        destination: { type: 'memory' },
        ...extra,
      })),
    },
    { baseDir: '/' },
  ).config
  const destinations = new Map(config.outputs.map((o) => [o.name, new FlakyDestination(o.name)]))
  const requests = new Map<string, number>()
  const lines: string[] = []
  const schedule = new OutputSchedule()
  const bot: ScheduledBot = {
    deps: {
      config,
      client: new AuthClient({
        baseUrl: BASE_URL,
        clock: h.clock,
        fetch: (url, init) => {
          const path = new URL(url).pathname
          if (bot.down(path)) return Promise.reject(new TypeError('fetch failed'))
          requests.set(path, (requests.get(path) ?? 0) + 1)
          return h.fetch(url, init)
        },
      }),
      storage: new MemoryDestination({ label: 'storage' }),
      destinations,
      clock: h.clock,
      log: createLogger('debug', (line) => lines.push(line)),
      schedule,
    },
    schedule,
    destinations,
    lines,
    requests,
    down: () => false,
  }
  return bot
}

/** A seeded PRNG (mulberry32): the same seed gives the same run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
