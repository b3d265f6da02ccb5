/**
 * Bot administration (the `tctl bots` of credbroker), on the local state or through
 * `--auth-server`:
 *   bots add <name> --roles a,b [--token-ttl 1h]    a bot and its one-time join token
 *   bots ls                                          bots and their roles
 *   bots update <name> (--roles a,b | --add-roles a --remove-roles b)
 *   bots rm <name>                                   the bot, its tokens and instances (locks stay)
 * Tokens are printed once, on stdout; they are never logged.
 */
import type { RemoveBotResult } from '../../auth/bots.ts'
import { formatTarget } from '../../auth/lock-admin.ts'
import type { Bot } from '../../resources/types.ts'
import { withAdmin } from '../admin/open-backend.ts'
import { stringFlag } from '../args.ts'
import type { Invocation } from '../command.ts'
import { durationFlag } from '../flag-values.ts'
import { relativeTime } from '../human.ts'
import { renderData } from '../output.ts'
import { renderTable } from '../table.ts'
import { UsageError } from '../usage-error.ts'

/** `--token-ttl` (or `--<flag>`) in ms, or undefined. @throws UsageError naming the option. */
export function tokenTtl(inv: Invocation, flag = 'token-ttl'): number | undefined {
  return durationFlag(inv.flags, flag)
}

export function roleList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '')
}

/** The printed form of a new join token (text) or its data (json/yaml). */
export function printToken(
  inv: Invocation,
  data: { bot?: Bot; token: string; tokenExpires: string },
  heading?: string,
): void {
  const now = inv.clock.now()
  const record = {
    ...(data.bot && { bot: data.bot.metadata.name, roles: data.bot.spec.roles }),
    token: data.token,
    token_expires: data.tokenExpires,
  }
  inv.io.stdout(
    renderData(inv.format, record, () =>
      [
        ...(heading === undefined ? [] : [heading]),
        `token: ${data.token}`,
        `expires: ${data.tokenExpires} (${relativeTime(new Date(data.tokenExpires), now)})`,
      ].join('\n'),
    ),
  )
}

export async function runBotsAdd(inv: Invocation): Promise<number> {
  const name = inv.args[0] as string
  const roles = roleList(stringFlag(inv.flags, 'roles'))
  if (roles.length === 0) throw new UsageError('bots add needs --roles role1,role2')
  const ttlMs = tokenTtl(inv)
  const added = await withAdmin(inv, (admin) =>
    admin.addBot({ name, roles, ...(ttlMs !== undefined && { tokenTtlMs: ttlMs }) }),
  )
  printToken(inv, added, `bot "${name}" created with roles ${roles.join(', ')}`)
  return 0
}

export async function runBotsLs(inv: Invocation): Promise<number> {
  const bots = await withAdmin(inv, (admin) => admin.list('bot'))
  const rows = bots.map((b) => ({ name: b.metadata.name, roles: b.spec.roles }))
  const text = renderData(inv.format, rows, () =>
    renderTable(
      ['BOT', 'ROLES'],
      rows.map((b) => [b.name, b.roles.join(', ')]),
    ),
  )
  inv.io.stdout(text)
  return 0
}

export async function runBotsUpdate(inv: Invocation): Promise<number> {
  const name = inv.args[0] as string
  const set = stringFlag(inv.flags, 'roles')
  const add = roleList(stringFlag(inv.flags, 'add-roles'))
  const remove = new Set(roleList(stringFlag(inv.flags, 'remove-roles')))
  if (set === undefined && add.length === 0 && remove.size === 0)
    throw new UsageError('bots update needs --roles, --add-roles or --remove-roles')
  if (set !== undefined && (add.length > 0 || remove.size > 0))
    throw new UsageError('bots update takes --roles, or --add-roles/--remove-roles, not both')
  const updated = await withAdmin(inv, async (admin) => {
    const bot = await admin.get('bot', name)
    const base = set === undefined ? bot.spec.roles : roleList(set)
    const roles = [...new Set([...base, ...add])].filter((r) => !remove.has(r))
    return (await admin.update({ ...bot, spec: { ...bot.spec, roles } })) as Bot
  })
  const record = { name, roles: updated.spec.roles }
  inv.io.stdout(
    renderData(
      inv.format,
      record,
      () => `bot "${name}" now has roles ${record.roles.join(', ') || '(none)'}`,
    ),
  )
  return 0
}

export async function runBotsRm(inv: Invocation): Promise<number> {
  const name = inv.args[0] as string
  const removed = await withAdmin(inv, (admin) => admin.removeBot(name))
  const record = {
    bot: name,
    removed: removed.bot,
    user: removed.user,
    role: removed.role,
    tokens: removed.tokens,
    instances: removed.instances,
    locks_kept: removed.locksKept.map((l) => l.metadata.name),
  }
  inv.io.stdout(renderData(inv.format, record, () => removalReport(removed, name)))
  return 0
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
