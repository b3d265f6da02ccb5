/**
 * Admin endpoints (PoP + RBAC): resources, bots and locks. The caller must not be locked (a lock
 * on its user, one of its roles or its bot instance refuses every admin request; the CLI, which
 * acts on the state directly, is the way back), and its roles must allow the verb on the kind
 * through `rules` (deny first), exactly like any other RBAC decision.
 *
 *   GET    /v1/resources/:kind            list     (?cursor=&limit=; registered kinds: only those
 *                                                  the caller's roles, or ?as_roles=, can see)
 *   POST   /v1/resources                  create   (body: the document)
 *   GET    /v1/resources/:kind/:name      read     (bot instances: :name = <bot>/<id>)
 *   PUT    /v1/resources/:kind/:name      update   (body: the document with metadata.revision)
 *   DELETE /v1/resources/:kind/:name      delete   (?revision=)
 *   POST   /v1/bots                       create a bot and its first join token
 *   POST   /v1/bots/:name/instances       a new join token for an existing bot
 *   DELETE /v1/bots/:name                  remove a bot, its tokens and instances (not its locks)
 *   POST   /v1/locks                      create a lock with a server-chosen id, `created_by`
 *                                          the caller (list and delete: /v1/resources/lock…)
 */
import type { Hono } from 'hono'
import * as z from 'zod'
import { createAudited, deleteAudited, updateAudited } from '../auth/audited-writes.ts'
import { addBot, addJoinToken, removeBot } from '../auth/bots.ts'
import type { Caller } from '../auth/caller.ts'
import type { AuthDeps } from '../auth/deps.ts'
import { addLock, parseLockExpiry } from '../auth/lock-admin.ts'
import { BadRequestError } from '../errors.ts'
import { nameOf } from '../resources/keys.ts'
import { validateResource } from '../resources/parse.ts'
import { isResourceKind } from '../resources/schemas.ts'
import type { LockTarget, ResourceKind } from '../resources/types.ts'
import { adminGate } from './admin-gate.ts'
import type { AppEnv, CallerContext } from './auth-app.ts'
import { parseJsonBody } from './body.ts'
import { getVisible, isRegisteredKind, viewingRoles, visibleItems } from './visible-resources.ts'

type CallerOf = (c: CallerContext) => Promise<Caller>

const addBotBody = z.strictObject({
  name: z.string().min(1).max(200),
  roles: z.array(z.string().min(1).max(253)).max(64),
  token_ttl_seconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .optional(),
})
const anyObject = z.record(z.string(), z.unknown())
/** The target is checked by the lock schema, whose errors name `spec.target.<field>`. */
const addLockBody = z.strictObject({
  target: anyObject,
  message: z.string().max(1024).optional(),
  /** A duration from now (`12h`) or an RFC 3339 instant. */
  expires: z.string().min(1).max(64).optional(),
})

export function registerAdminRoutes(app: Hono<AppEnv>, deps: AuthDeps, callerOf: CallerOf): void {
  const { admitted, authorize } = adminGate(deps, callerOf)

  app.get('/v1/resources/:kind', async (c) => {
    const caller = await admitted(c)
    const kind = kindOf(c.req.param('kind'))
    // Registered resources are filtered by visibility; other kinds need the list rule.
    let viewer: Awaited<ReturnType<typeof viewingRoles>> | undefined
    if (isRegisteredKind(kind)) viewer = await viewingRoles(deps, caller, c.req.query('as_roles'))
    else await authorize(caller, kind, 'list')
    const limit = c.req.query('limit')
    const cursor = c.req.query('cursor')
    const page = await deps.resources.list(kind, {
      ...(limit !== undefined && { limit: Number(limit) }),
      ...(cursor !== undefined && { cursor }),
    })
    return c.json({
      items: viewer === undefined ? page.items : visibleItems(viewer, page.items),
      ...(page.nextCursor !== undefined && { next_cursor: page.nextCursor }),
    })
  })
  app.post('/v1/resources', async (c) => {
    const caller = await admitted(c) // before looking at the body
    const doc = parseJsonBody(c.get('body'), anyObject)
    if (typeof doc.kind !== 'string') throw new BadRequestError('kind: required')
    await authorize(caller, kindOf(doc.kind), 'create')
    // Lock and role changes are audit events (role ones also published): lib/auth/audited-writes.ts.
    const created = await createAudited(deps, caller.identity.user, doc)
    return c.json(created, 201)
  })
  app.get('/v1/resources/:kind/:name{.+}', async (c) => {
    const caller = await admitted(c)
    const kind = kindOf(c.req.param('kind'))
    if (isRegisteredKind(kind)) {
      const roles = await viewingRoles(deps, caller, c.req.query('as_roles'))
      return c.json(await getVisible(deps.resources, roles, kind, c.req.param('name')))
    }
    await authorize(caller, kind, 'read')
    return c.json(await deps.resources.get(kind, c.req.param('name')))
  })
  app.put('/v1/resources/:kind/:name{.+}', async (c) => {
    const caller = await admitted(c)
    const kind = kindOf(c.req.param('kind'))
    await authorize(caller, kind, 'update')
    const doc = parseJsonBody(c.get('body'), anyObject)
    if (doc.kind !== kind) throw new BadRequestError(`kind: the document's kind must be ${kind}`)
    const resource = validateResource(doc)
    if (nameOf(resource) !== c.req.param('name')) {
      throw new BadRequestError(
        `metadata.name: the document names "${nameOf(resource)}", the path "${c.req.param('name')}"`,
      )
    }
    const updated = await updateAudited(deps, caller.identity.user, resource)
    return c.json(updated)
  })
  app.delete('/v1/resources/:kind/:name{.+}', async (c) => {
    const caller = await admitted(c)
    const kind = kindOf(c.req.param('kind'))
    await authorize(caller, kind, 'delete')
    const revision = c.req.query('revision')
    await deleteAudited(
      deps,
      caller.identity.user,
      kind,
      c.req.param('name'),
      revision === undefined ? {} : { revision },
    )
    return c.json({ ok: true })
  })
  app.post('/v1/bots', async (c) => {
    const caller = await authorize(await admitted(c), 'bot', 'create')
    const body = parseJsonBody(c.get('body'), addBotBody)
    const result = await addBot(deps, caller.identity.user, {
      name: body.name,
      roles: body.roles,
      ...(body.token_ttl_seconds !== undefined && { tokenTtlMs: body.token_ttl_seconds * 1000 }),
    })
    return c.json({ bot: result.bot, token: result.token, token_expires: result.tokenExpires }, 201)
  })
  app.post('/v1/bots/:name/instances', async (c) => {
    await authorize(await admitted(c), 'token', 'create')
    const result = await addJoinToken(deps, c.req.param('name'))
    return c.json({ token: result.token, token_expires: result.tokenExpires }, 201)
  })
  app.delete('/v1/bots/:name', async (c) => {
    const caller = await authorize(await admitted(c), 'bot', 'delete')
    const removed = await removeBot(deps, caller.identity.user, c.req.param('name'))
    return c.json({
      bot: removed.bot,
      user: removed.user,
      role: removed.role,
      tokens: removed.tokens,
      instances: removed.instances,
      locks_kept: removed.locksKept.map((l) => l.metadata.name),
    })
  })
  app.post('/v1/locks', async (c) => {
    const caller = await authorize(await admitted(c), 'lock', 'create')
    const body = parseJsonBody(c.get('body'), addLockBody)
    const expires =
      body.expires === undefined ? undefined : parseLockExpiry(body.expires, deps.clock.now(), 'expires')
    const lock = await addLock(deps, caller.identity.user, {
      target: body.target as LockTarget,
      ...(body.message !== undefined && { message: body.message }),
      ...(expires !== undefined && { expires }),
    })
    return c.json(lock, 201)
  })
}

function kindOf(value: string): ResourceKind {
  if (!isResourceKind(value)) throw new BadRequestError(`unknown resource kind "${value}"`)
  return value
}
