/**
 * `bots add` and `bots instances add`: a bot is a bot resource plus single-use join tokens. Its
 * bot role `bot-<name>` (may impersonate the bot's roles, may read CAs) is derived from the bot
 * resource on every request (see `botRoleOf`), so it can never drift from the bot's roles.
 */
import { randomHex } from '../random.ts'
import type { Bot, Token } from '../resources/types.ts'
import { recordAudit } from './audit.ts'
import type { AuthDeps } from './deps.ts'
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
