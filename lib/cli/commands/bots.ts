/**
 * Bot administration on the configured state (the `tctl bots` of credbroker):
 *   bots add <name> --roles a,b [--token-ttl 1h]    create a bot and its first join token
 *   bots instances add <name> [--token-ttl 1h]      a new join token (a new bot instance on join)
 *   bots ls                                          list bots
 *   bots rm <name>                                   remove a bot, its tokens and instances; its
 *                                                    locks stay (see `removeBot`)
 * Tokens are printed once, on stdout; they are never logged.
 */
import { addBot, addJoinToken, type BotAdminDeps, type RemoveBotResult, removeBot } from '../../auth/bots.ts'
import { DEFAULT_LIMITS } from '../../auth/deps.ts'
import { formatTarget } from '../../auth/lock-admin.ts'
import { parseDuration } from '../../duration.ts'
import { BadRequestError } from '../../errors.ts'
import { cryptoRandom } from '../../random.ts'
import type { CliContext } from '../context.ts'
import { renderTable } from '../table.ts'
import { UsageError } from '../usage-error.ts'

export interface BotsOptions {
  readonly roles?: string
  readonly tokenTtl?: string
}

export async function botsCommand(
  ctx: CliContext,
  args: readonly string[],
  options: BotsOptions,
): Promise<number> {
  const deps: BotAdminDeps = {
    store: ctx.store,
    resources: ctx.resources,
    clock: ctx.clock,
    random: cryptoRandom,
    log: ctx.log,
    limits: DEFAULT_LIMITS,
  }
  const ttlMs = options.tokenTtl === undefined ? undefined : tokenTtl(options.tokenTtl)
  const [verb, ...rest] = args
  if (verb === 'add' && rest[0] !== undefined) {
    const roles = (options.roles ?? '').split(',').filter((r) => r !== '')
    if (roles.length === 0) throw new BadRequestError('bots add needs --roles role1,role2')
    const result = await addBot(deps, 'cli', {
      name: rest[0],
      roles,
      ...(ttlMs !== undefined && { tokenTtlMs: ttlMs }),
    })
    ctx.print(
      `bot "${rest[0]}" created with roles ${roles.join(', ')}\ntoken: ${result.token}\nexpires: ${result.tokenExpires}`,
    )
    return 0
  }
  if (verb === 'instances' && rest[0] === 'add' && rest[1] !== undefined) {
    const result = await addJoinToken(deps, rest[1], ttlMs)
    ctx.print(`token: ${result.token}\nexpires: ${result.tokenExpires}`)
    return 0
  }
  if (verb === 'rm' && rest.length === 1) {
    ctx.print(removalReport(await removeBot(deps, 'cli', rest[0] as string), rest[0] as string))
    return 0
  }
  if (verb === 'ls') {
    const page = await ctx.resources.list('bot', { limit: 1000 })
    ctx.print(
      renderTable(
        ['BOT', 'ROLES'],
        page.items.map((b) => [b.metadata.name, b.spec.roles.join(', ')]),
      ),
    )
    return 0
  }
  throw new UsageError(
    'usage: bots add <name> --roles a,b | bots instances add <name> | bots ls | bots rm <name>',
  )
}

/** What `bots rm` removed and which locks it kept, one fact per line. */
function removalReport(r: RemoveBotResult, name: string): string {
  return [
    r.bot
      ? `bot "${name}" removed, with its user ${r.user} and role ${r.role}`
      : `bot "${name}" was already removed; removed what was left of it`,
    `join tokens removed: ${r.tokens}`,
    `bot instances removed: ${r.instances.length}`,
    ...r.instances.map((i) => `  ${i}`),
    `locks kept: ${r.locksKept.length}${r.locksKept.length > 0 ? ' (credbroker locks rm <id> lifts one)' : ''}`,
    ...r.locksKept.map((l) => `  ${l.metadata.name}  ${formatTarget(l.spec.target)}`),
  ].join('\n')
}

function tokenTtl(text: string): number {
  try {
    return parseDuration(text)
  } catch {
    throw new BadRequestError(`--token-ttl: "${text}" is not a duration such as 30m or 1h`)
  }
}
