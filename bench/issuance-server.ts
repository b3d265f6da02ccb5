/**
 * The auth service for the issuance benchmark, in its own process (so the load generator does
 * not share its CPU), example cluster applied, a join token minted. Usage:
 * `issuance-server.ts memory|embedded|kms`:
 * - `memory`, `embedded`: that state store, CA keys in memory;
 * - `kms`: memory store, CA keys in KMS as described by the JSON `KmsBenchConfig` in the
 *   environment variable `CREDBROKER_BENCH_KMS` (moto on 127.0.0.1, see `kms-moto.ts`).
 * Prints one JSON line `{url, token}` on stdout when ready, and `{cpuMicros}` on each SIGUSR2.
 * Logs go to stderr at info level, as in production (one audit line per issuance).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { serve } from '@hono/node-server'
import { EmbeddedStore } from '../lib/adapters/embedded/store.ts'
import { KmsKeyStore } from '../lib/adapters/kms/key-store.ts'
import { MemoryKeyStore } from '../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../lib/adapters/memory/store.ts'
import { addJoinToken } from '../lib/auth/bots.ts'
import { createAuthService } from '../lib/auth/service.ts'
import { loadDocuments } from '../lib/cli/load-documents.ts'
import { systemClock } from '../lib/clock.ts'
import { createLogger } from '../lib/log.ts'
import { cryptoRandom } from '../lib/random.ts'
import { applyResources } from '../lib/services/apply.ts'
import type { KmsBenchConfig } from './kms-moto.ts'

function kmsKeyStore(): KmsKeyStore {
  const raw = process.env.CREDBROKER_BENCH_KMS
  if (raw === undefined) throw new TypeError('kms needs CREDBROKER_BENCH_KMS (a KmsBenchConfig as JSON)')
  const { clientConfig, keys } = JSON.parse(raw) as KmsBenchConfig
  return new KmsKeyStore({ clientConfig, keys, messageType: 'RAW' })
}

const kind = process.argv[2] === 'embedded' || process.argv[2] === 'kms' ? process.argv[2] : 'memory'
const store =
  kind === 'embedded'
    ? await EmbeddedStore.open({ path: join(mkdtempSync(join(tmpdir(), 'credbroker-bench-')), 'state.db') })
    : new MemoryStore()
const service = await createAuthService({
  clusterName: 'bench.local',
  publicAddr: 'http://127.0.0.1',
  store,
  keys: kind === 'kms' ? kmsKeyStore() : new MemoryKeyStore(),
  clock: systemClock,
  random: cryptoRandom,
  log: createLogger('info'),
})
await applyResources(service.deps.resources, loadDocuments(resolve('examples/cluster')))
const { token } = await addJoinToken(service.deps, 'example')
const server = serve({ fetch: service.app.fetch, hostname: '127.0.0.1', port: 0 })
server.once('listening', () => {
  const { port } = server.address() as { port: number }
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, token })}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
// The load generator asks for this process's CPU time around its measured window.
process.on('SIGUSR2', () => {
  const { user, system } = process.cpuUsage()
  process.stdout.write(`${JSON.stringify({ cpuMicros: user + system })}\n`)
})
