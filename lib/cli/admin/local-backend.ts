/**
 * The admin backend on the configured state store, used when no `--auth-server` is given: the
 * CLI acts as the auth service would, with the acting user `cli` in audit events and in
 * `created_by`. It works even when every admin identity is locked or expired.
 *
 * Changes record the same audit events as the admin HTTP API (`role.*`, `lock.*`, `bot.*`; the
 * writes are shared, lib/auth/audited-writes.ts), stored under `audit/` in the state. They are not
 * published: a CLI process has no event sink (it does not know the deployment's event bus, see
 * docs/SERVERLESS.md "Events that trigger a reissue"), so bots pick up a role changed or a lock
 * removed here at their next scheduled run, not at once. Through `--auth-server` they are published.
 */

import { createAudited, deleteAudited, updateAudited } from '../../auth/audited-writes.ts'
import { addBot, addJoinToken, type BotAdminDeps, removeBot } from '../../auth/bots.ts'
import { DEFAULT_LIMITS } from '../../auth/deps.ts'
import { addLock, removeLock } from '../../auth/lock-admin.ts'
import { rotateCa, rotationStatus } from '../../ca/rotation.ts'
import { cryptoRandom } from '../../random.ts'
import type { Resource, ResourceKind, ResourceOf } from '../../resources/types.ts'
import type { CliContext } from '../context.ts'
import { keyStoreFor } from '../local-cluster.ts'
import type { AdminBackend } from './backend.ts'

/** The acting user recorded in `created_by` and the audit log for local changes. */
export const LOCAL_ACTOR = 'cli'

export function localBackend(ctx: CliContext): AdminBackend {
  const deps: BotAdminDeps = {
    store: ctx.store,
    resources: ctx.resources,
    clock: ctx.clock,
    random: cryptoRandom,
    log: ctx.log,
    limits: DEFAULT_LIMITS,
  }
  const where =
    ctx.config.store.kind === 'embedded' ? `local state ${ctx.config.store.stateDir}` : 'local state'
  return {
    where,
    async list<K extends ResourceKind>(kind: K): Promise<ResourceOf<K>[]> {
      const all: ResourceOf<K>[] = []
      let cursor: string | undefined
      do {
        const page = await ctx.resources.list(kind, cursor === undefined ? {} : { cursor })
        all.push(...page.items)
        cursor = page.nextCursor
      } while (cursor !== undefined)
      return all
    },
    get: (kind, name) => ctx.resources.get(kind, name),
    create: (doc) => createAudited(deps, LOCAL_ACTOR, doc),
    update: (doc: Resource) => updateAudited(deps, LOCAL_ACTOR, doc),
    remove: (kind, name) => deleteAudited(deps, LOCAL_ACTOR, kind, name),
    async addBot(req) {
      const r = await addBot(deps, LOCAL_ACTOR, {
        name: req.name,
        roles: req.roles,
        ...(req.tokenTtlMs !== undefined && { tokenTtlMs: req.tokenTtlMs }),
      })
      return { bot: r.bot, token: r.token, tokenExpires: r.tokenExpires }
    },
    addJoinToken: (bot, ttlMs) => addJoinToken(deps, bot, ttlMs),
    removeBot: (name) => removeBot(deps, LOCAL_ACTOR, name),
    addLock: (req) => addLock(deps, LOCAL_ACTOR, req),
    removeLock: (id) => removeLock(deps, LOCAL_ACTOR, id),
    caStatus: () => rotationStatus({ store: ctx.store }),
    rotateCa: (req) =>
      rotateCa(
        {
          store: ctx.store,
          keys: keyStoreFor(ctx),
          clusterName: ctx.config.clusterName,
          clock: ctx.clock,
          random: cryptoRandom,
          log: ctx.log,
        },
        { ...req, user: LOCAL_ACTOR },
      ),
    close: () => ctx.store.close(),
  }
}
