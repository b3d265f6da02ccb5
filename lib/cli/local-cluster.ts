/**
 * The local auth service (`start`, `auth start`, `auth bootstrap`): an auth service on the
 * configured store, its CA keys as 0600 files in the state directory, bootstrap documents
 * applied, an admin identity written to `<state>/admin/` (key, tlscert, the user CA and an
 * `auth_server` file naming the URL), and, unless only bootstrapping, served on a loopback address.
 */
import { join, resolve } from 'node:path'
import { serve } from '@hono/node-server'
import { DirectoryDestination } from '../adapters/directory/destination.ts'
import { FileKeyStore } from '../adapters/local/key-store.ts'
import { MemoryKeyStore } from '../adapters/memory/key-store.ts'
import { issueAdminIdentity } from '../auth/admin.ts'
import { parseCallerPublicKey } from '../auth/public-key.ts'
import { type AuthService, createAuthService } from '../auth/service.ts'
import { generateClientKey } from '../bot/keys.ts'
import { InvalidConfigError } from '../errors.ts'
import type { KeyStore } from '../ports/key-store.ts'
import { cryptoRandom } from '../random.ts'
import { type ApplyResult, applyResources } from '../services/apply.ts'
import type { CliContext } from './context.ts'
import { loadDocuments } from './load-documents.ts'

export const EXAMPLE_CLUSTER_DIR = 'examples/cluster'
const ADMIN_TTL_MS = 12 * 3600_000

export interface LocalCluster {
  readonly service: AuthService
  readonly url: string
  readonly applied: readonly ApplyResult[]
  readonly adminDir?: string
  close(): Promise<void>
}

/** The embedded main job's auth side: the example cluster applied, served on the listen address. */
export function startLocalCluster(ctx: CliContext, cwd: string): Promise<LocalCluster> {
  return startLocalAuth(ctx, { documents: [resolve(cwd, EXAMPLE_CLUSTER_DIR)] })
}

export interface LocalAuthOptions {
  /** Files or directories of documents to apply (create or update) before serving. */
  readonly documents: readonly string[]
  /** False: set up state, CAs and the admin identity, then stop (`auth bootstrap`). Default true. */
  readonly serve?: boolean
}

/** The auth service on the configured state; see the file comment. */
export async function startLocalAuth(ctx: CliContext, options: LocalAuthOptions): Promise<LocalCluster> {
  const { host, port } = ctx.config.listen
  const url = `http://${host}:${port}`
  const service = await createAuthService({
    clusterName: ctx.config.clusterName,
    publicAddr: url,
    store: ctx.store,
    keys: keyStoreFor(ctx),
    clock: ctx.clock,
    random: cryptoRandom,
    log: ctx.log,
    iam: { extraStsHosts: ctx.config.iam.extraStsHosts, admins: ctx.config.iam.admins },
  })
  const documents = options.documents.flatMap((path) => loadDocuments(path))
  const applied = await applyResources(service.deps.resources, documents)
  const adminDir = await writeAdminIdentity(ctx, service, url)
  const base = { service, url, applied, ...(adminDir !== undefined && { adminDir }) }
  if (options.serve === false) return { ...base, close: async () => {} }
  const server = await listen(service, host, port)
  ctx.log.info('auth service listening', { url, cluster: ctx.config.clusterName })
  return { ...base, close: () => new Promise<void>((done) => server.close(() => done())) }
}

/** The local key store for the configured state: 0600 files under `<state>/keys`, or memory. */
export function keyStoreFor(ctx: Pick<CliContext, 'config'>): KeyStore {
  const store = ctx.config.store
  switch (store.kind) {
    case 'embedded':
      return new FileKeyStore({ dir: join(store.stateDir, 'keys') })
    case 'memory':
      return new MemoryKeyStore()
    case 'dynamodb':
      throw new InvalidConfigError(
        'CREDBROKER_STORE',
        'the local auth service runs on the embedded or memory store',
      )
  }
}

/** A fresh admin identity (12h) in `<state>/admin/`: key, tlscert, the user CA and `auth_server`. */
async function writeAdminIdentity(
  ctx: CliContext,
  service: AuthService,
  url: string,
): Promise<string | undefined> {
  if (ctx.config.store.kind !== 'embedded') return undefined
  const dir = join(ctx.config.store.stateDir, 'admin')
  const key = generateClientKey()
  const certs = await issueAdminIdentity(service.deps, parseCallerPublicKey(key.publicPem), ADMIN_TTL_MS)
  await new DirectoryDestination({ path: dir, clock: ctx.clock }).write(
    new Map([
      ['key', key.privatePem],
      ['tlscert', certs.tlsCertPem],
      ['credbroker-user-ca.crt', service.deps.cas.user.trustedTlsPems.join('')],
      ['auth_server', `${url}\n`],
    ]),
  )
  return dir
}

function listen(service: AuthService, hostname: string, port: number): Promise<ReturnType<typeof serve>> {
  return new Promise((resolvePromise, reject) => {
    const server = serve({ fetch: service.app.fetch, hostname, port }, () => resolvePromise(server))
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new InvalidConfigError(
              'CREDBROKER_LISTEN',
              `${hostname}:${port} is already in use (is another credbroker running?)`,
            )
          : err,
      )
    })
  })
}
