/**
 * `bots add`, `bots instances add` and `bots rm`: a bot is a bot resource plus single-use join
 * tokens and the bot instances its joins create. Its user and its bot role `bot-<name>` (may
 * impersonate the bot's roles, may read CAs) are not stored: they are derived from the bot
 * resource on every request (see `botRoleOf`), so they can never drift from the bot's roles, and
 * they are gone the moment the bot is.
 */
import { NotFoundError } from '../errors.ts'
import { botRole, botUser } from '../identity/identity.ts'
import { randomHex } from '../random.ts'
import type { Bot, Lock, Token } from '../resources/types.ts'
import { recordAudit } from './audit.ts'
import type { AuthDeps } from './deps.ts'
import { listLocks } from './lock-admin.ts'
import { BOT_LABEL } from './roles.ts'

export interface AddBotRequest {
  readonly name: string
  readonly roles: readonly string[]
  /** Join token lifetime; defaults to the server's `joinTokenTtlMs` (1h). */
  readonly tokenTtlMs?: number
}

export interface AddBotResult {
  readonly bot: Bot
  /** The join token's name: the secret a `token` join presents. Shown once; never logged. */
  readonly token: string
  readonly tokenExpires: string
}

/** What bot administration needs: no CA, no HTTP. */
export type BotAdminDeps = Pick<AuthDeps, 'store' | 'resources' | 'clock' | 'random' | 'log' | 'limits'>

export async function addBot(deps: BotAdminDeps, actor: string, req: AddBotRequest): Promise<AddBotResult> {
  const labels = { [BOT_LABEL]: req.name }
  const bot = (await deps.resources.create({
    kind: 'bot',
    version: 'v1',
    metadata: { name: req.name, labels },
    spec: { roles: [...req.roles], traits: [] },
  } satisfies Bot)) as Bot
  const { token, tokenExpires } = await addJoinToken(deps, req.name, req.tokenTtlMs)
  await recordAudit(deps, {
    type: 'bot.created',
    user: actor,
    success: true,
    fields: { bot: req.name, roles: req.roles },
  })
  return { bot, token, tokenExpires }
}

/** A fresh single-use `token` join token for an existing bot (a new bot instance on join). */
export async function addJoinToken(
  deps: BotAdminDeps,
  botName: string,
  ttlMs: number = deps.limits.joinTokenTtlMs,
): Promise<{ token: string; tokenExpires: string }> {
  await deps.resources.get('bot', botName) // NotFoundError: bot "x" not found
  const token = randomHex(deps.random, 16)
  const tokenExpires = new Date(deps.clock.now().getTime() + ttlMs).toISOString()
  await deps.resources.create({
    kind: 'token',
    version: 'v1',
    metadata: { name: token, labels: { [BOT_LABEL]: botName }, expires: tokenExpires },
    spec: { join_method: 'token', bot_name: botName, allow: [] },
  } satisfies Token)
  return { token, tokenExpires }
}

export interface RemoveBotResult {
  /** False when only leftovers of an earlier, interrupted removal were found. */
  readonly bot: boolean
  /** The derived user and role that went with the bot (`bot-<name>`). */
  readonly user: string
  readonly role: string
  /** How many join tokens were removed (their names are secrets: not returned). */
  readonly tokens: number
  /** The removed bot instances, as `<bot>/<instance id>`. */
  readonly instances: readonly string[]
  /** Locks that target the bot's user, role, instances or tokens: kept, and still in force. */
  readonly locksKept: readonly Lock[]
}

/**
 * Removes a bot: the bot resource (and with it the derived user and role), then its join tokens
 * and its bot instances. Locks are kept on purpose, as Machine ID does: a lock on the user or on
 * a removed instance applies again if a bot of that name comes back (an old identity of a
 * removed instance would otherwise be honoured by a new bot of the same name).
 *
 * The bot goes first, so no join or issuance succeeds once removal starts; running it again
 * after an interruption removes what is left.
 * @throws NotFoundError (`bot "x" not found`) when there is neither the bot nor anything left of it.
 */
export async function removeBot(deps: BotAdminDeps, actor: string, name: string): Promise<RemoveBotResult> {
  const existed = await ignoreNotFound(deps.resources.delete('bot', name))
  const tokens = await botTokens(deps, name)
  let removedTokens = 0
  for (const token of tokens) {
    if (await ignoreNotFound(deps.resources.delete('token', token.metadata.name))) removedTokens++
  }
  const instances = await allPages((cursor) =>
    deps.resources.list('bot_instance', { prefix: `${name}/`, ...(cursor !== undefined && { cursor }) }),
  )
  const removedInstances: string[] = []
  for (const instance of instances) {
    const ref = `${name}/${instance.spec.instance_id}`
    if (await ignoreNotFound(deps.resources.delete('bot_instance', ref))) removedInstances.push(ref)
  }
  if (!existed && removedTokens === 0 && removedInstances.length === 0)
    throw new NotFoundError(`bot "${name}" not found`)
  const tokenNames = new Set(tokens.map((t) => t.metadata.name))
  const locksKept = (await listLocks(deps)).filter((lock) => targetsBot(lock, name, tokenNames))
  await recordAudit(deps, {
    type: 'bot.deleted',
    user: actor,
    success: true,
    fields: {
      bot: name,
      tokens: removedTokens,
      instances: removedInstances,
      locks_kept: locksKept.map((l) => l.metadata.name),
    },
  })
  return {
    bot: existed,
    user: botUser(name),
    role: botRole(name),
    tokens: removedTokens,
    instances: removedInstances,
    locksKept,
  }
}

/** Join tokens for the bot, whatever created them (`bots add`, or a document applied by hand). */
async function botTokens(deps: BotAdminDeps, name: string): Promise<Token[]> {
  const all = await allPages((cursor) => deps.resources.list('token', cursor === undefined ? {} : { cursor }))
  return all.filter((t) => t.spec.bot_name === name)
}

/** A lock on the bot's user, role, one of its instances or one of its join tokens. */
function targetsBot(lock: Lock, name: string, tokenNames: ReadonlySet<string>): boolean {
  const t = lock.spec.target
  return (
    t.user === botUser(name) ||
    t.role === botRole(name) ||
    t.bot_instance?.startsWith(`${name}/`) === true ||
    (t.join_token !== undefined && tokenNames.has(t.join_token))
  )
}

async function allPages<T>(
  page: (cursor: string | undefined) => Promise<{ items: readonly T[]; nextCursor?: string }>,
): Promise<T[]> {
  const all: T[] = []
  let cursor: string | undefined
  do {
    const next = await page(cursor)
    all.push(...next.items)
    cursor = next.nextCursor
  } while (cursor !== undefined)
  return all
}

/** True when the delete removed something; false when it was already gone (a racing removal). */
async function ignoreNotFound(deletion: Promise<void>): Promise<boolean> {
  try {
    await deletion
    return true
  } catch (err) {
    if (err instanceof NotFoundError) return false
    throw err
  }
}
