/**
 * Bot administration on the configured state (the `tctl bots` of credbroker):
 *   bots add <name> --roles a,b [--token-ttl 1h]    create a bot and its first join token
 *   bots instances add <name> [--token-ttl 1h]      a new join token (a new bot instance on join)
 *   bots ls                                          list bots
 * Tokens are printed once, on stdout; they are never logged.
 */
import { addBot, addJoinToken, type BotAdminDeps } from '../../auth/bots.ts'
import { DEFAULT_LIMITS } from '../../auth/deps.ts'
import { parseDuration } from '../../duration.ts'
import { BadRequestError } from '../../errors.ts'
import { cryptoRandom } from '../../random.ts'
import type { CliContext } from '../context.ts'
import { renderTable } from '../table.ts'

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
  throw new BadRequestError('usage: bots add <name> --roles a,b | bots instances add <name> | bots ls')
}

function tokenTtl(text: string): number {
  try {
    return parseDuration(text)
  } catch {
    throw new BadRequestError(`--token-ttl: "${text}" is not a duration such as 30m or 1h`)
  }
}
