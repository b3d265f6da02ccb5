/**
 * The admin backend over a remote auth service's admin HTTP API (lib/http/admin-routes.ts),
 * every request signed with proof of possession of the admin identity's key (lib/auth/pop), as
 * the bot signs its own. Errors come back as the server raised them (code, status, message).
 */
import { BOT_LABEL } from '../../auth/roles.ts'
import { AuthClient, type Fetch } from '../../bot/auth-client.ts'
import type { RotationStatus } from '../../ca/rotation.ts'
import type { Clock } from '../../clock.ts'
import { cryptoRandom, type Random, randomHex } from '../../random.ts'
import { nameOf } from '../../resources/keys.ts'
import type { Bot, Lock, Resource, ResourceKind, ResourceOf } from '../../resources/types.ts'
import type { AddedBot, AddedToken, AdminBackend } from '../admin/backend.ts'
import { UsageError } from '../usage-error.ts'
import type { AdminIdentity } from './admin-identity.ts'

export interface RemoteBackendOptions {
  readonly baseUrl: string
  readonly identity: AdminIdentity
  readonly clock: Clock
  readonly random?: Random
  readonly fetch?: Fetch
}

interface Page<T> {
  readonly items: T[]
  readonly next_cursor?: string
}

export function remoteBackend(options: RemoteBackendOptions): AdminBackend {
  const client = new AuthClient({
    baseUrl: options.baseUrl,
    clock: options.clock,
    ...(options.random && { random: options.random }),
    ...(options.fetch && { fetch: options.fetch }),
  })
  const random = options.random ?? cryptoRandom
  const call = <T>(method: string, path: string, body?: unknown) =>
    client.request<T>(options.identity, method, path, body)
  const get = <K extends ResourceKind>(kind: K, name: string) =>
    call<ResourceOf<K>>('GET', resourcePath(kind, name))

  return {
    where: options.baseUrl,
    async list<K extends ResourceKind>(kind: K): Promise<ResourceOf<K>[]> {
      const all: ResourceOf<K>[] = []
      let cursor: string | undefined
      do {
        const query = cursor === undefined ? '' : `?cursor=${encodeURIComponent(cursor)}`
        const page = await call<Page<ResourceOf<K>>>('GET', `/v1/resources/${kind}${query}`)
        all.push(...page.items)
        cursor = page.next_cursor
      } while (cursor !== undefined)
      return all
    },
    get,
    create: (doc) => call<Resource>('POST', '/v1/resources', doc),
    update: (doc) => call<Resource>('PUT', resourcePath(doc.kind, nameOf(doc)), doc),
    async remove(kind, name) {
      await call('DELETE', resourcePath(kind, name))
    },
    async addBot(req): Promise<AddedBot> {
      const res = await call<{ bot: Bot; token: string; token_expires: string }>('POST', '/v1/bots', {
        name: req.name,
        roles: req.roles,
        ...(req.tokenTtlMs !== undefined && { token_ttl_seconds: ttlSeconds(req.tokenTtlMs) }),
      })
      return { bot: res.bot, token: res.token, tokenExpires: res.token_expires }
    },
    async addJoinToken(bot, ttlMs): Promise<AddedToken> {
      if (ttlMs === undefined) {
        const res = await call<{ token: string; token_expires: string }>(
          'POST',
          `/v1/bots/${encodeURIComponent(bot)}/instances`,
        )
        return { token: res.token, tokenExpires: res.token_expires }
      }
      // The instances route takes no lifetime: create the token document itself, as the server's
      // addJoinToken would (the bot must exist; the token is 16 random bytes, hex).
      await get('bot', bot)
      const token = randomHex(random, 16)
      const tokenExpires = new Date(options.clock.now().getTime() + ttlMs).toISOString()
      await call('POST', '/v1/resources', {
        kind: 'token',
        version: 'v1',
        metadata: { name: token, labels: { [BOT_LABEL]: bot }, expires: tokenExpires },
        spec: { join_method: 'token', bot_name: bot, allow: [] },
      })
      return { token, tokenExpires }
    },
    async removeBot(name) {
      const res = await call<{
        bot: boolean
        user: string
        role: string
        tokens: number
        instances: string[]
        locks_kept: string[]
      }>('DELETE', `/v1/bots/${encodeURIComponent(name)}`)
      const locksKept: Lock[] = []
      for (const id of res.locks_kept) locksKept.push(await get('lock', id))
      return {
        bot: res.bot,
        user: res.user,
        role: res.role,
        tokens: res.tokens,
        instances: res.instances,
        locksKept,
      }
    },
    addLock: (req) =>
      call<Lock>('POST', '/v1/locks', {
        target: req.target,
        ...(req.message !== undefined && { message: req.message }),
        ...(req.expires !== undefined && { expires: req.expires.toISOString() }),
      }),
    async removeLock(id) {
      const lock = await get('lock', id)
      await call('DELETE', resourcePath('lock', id))
      return lock
    },
    async caStatus() {
      return (await call<{ cas: RotationStatus[] }>('GET', '/v1/ca/rotation')).cas
    },
    rotateCa: (req) =>
      call<RotationStatus>('POST', '/v1/ca/rotation', {
        type: req.type,
        ...(req.phase !== undefined && { phase: req.phase }),
        ...(req.manual !== undefined && { manual: req.manual }),
        ...(req.force === true && { force: true }),
        ...(req.gracePeriodMs !== undefined && {
          grace_period_seconds: Math.floor(req.gracePeriodMs / 1000),
        }),
      }),
    close: async () => {},
  }
}

/** `/v1/resources/<kind>/<name>`; a bot instance's `<bot>/<id>` keeps its slash. */
function resourcePath(kind: ResourceKind, name: string): string {
  return `/v1/resources/${kind}/${name.split('/').map(encodeURIComponent).join('/')}`
}

/** @throws UsageError: the admin API takes whole seconds, so `--token-ttl 1500ms` cannot be sent. */
function ttlSeconds(ms: number): number {
  if (ms % 1000 !== 0) throw new UsageError('--token-ttl: must be a whole number of seconds remotely')
  return ms / 1000
}
