/**
 * Join tokens: `tokens add|ls|rm`. A `token`-method token's name is its secret: it is printed
 * once by `tokens add`, and `tokens ls` shows only its first 8 characters in every format (text,
 * JSON, YAML), unless `--show-secrets` asks for the full names. `get token` prints the documents
 * as they are: it is the admin's explicit read of the resources.
 */
import type { IamAllowRule, Token } from '../../resources/types.ts'
import { withAdmin } from '../admin/open-backend.ts'
import { booleanFlag, listFlag, stringFlag } from '../args.ts'
import type { Invocation } from '../command.ts'
import { humanTime } from '../human.ts'
import { renderData } from '../output.ts'
import { maskToken } from '../resource-table.ts'
import { renderTable } from '../table.ts'
import { UsageError } from '../usage-error.ts'
import { printToken, tokenTtl } from './bots.ts'

export async function runTokensAdd(inv: Invocation): Promise<number> {
  const bot = stringFlag(inv.flags, 'bot')
  if (bot === undefined) throw new UsageError('tokens add needs --bot NAME')
  const type = stringFlag(inv.flags, 'type') ?? 'token'
  const ttlMs = tokenTtl(inv, 'ttl')
  if (type === 'token') {
    const added = await withAdmin(inv, (admin) => admin.addJoinToken(bot, ttlMs))
    printToken(inv, added)
    return 0
  }
  if (type !== 'iam') throw new UsageError(`--type: must be token or iam (got "${type}")`)
  const name = stringFlag(inv.flags, 'name')
  if (name === undefined) throw new UsageError('tokens add --type iam needs --name NAME')
  const allow: IamAllowRule[] = [
    ...listFlag(inv.flags, 'allow-account').map((aws_account) => ({ aws_account })),
    ...listFlag(inv.flags, 'allow-arn').map((aws_arn) => ({ aws_arn })),
  ]
  const expires = ttlMs === undefined ? undefined : new Date(inv.clock.now().getTime() + ttlMs).toISOString()
  const doc: Token = {
    kind: 'token',
    version: 'v1',
    metadata: { name, labels: {}, ...(expires !== undefined && { expires }) },
    spec: { join_method: 'iam', bot_name: bot, allow },
  }
  await withAdmin(inv, async (admin) => {
    await admin.get('bot', bot)
    return admin.create(doc)
  })
  const record = { token: name, join_method: 'iam', bot, allow, expires: expires ?? null }
  inv.io.stdout(renderData(inv.format, record, () => `iam token "${name}" created for bot ${bot}`))
  return 0
}

export async function runTokensLs(inv: Invocation): Promise<number> {
  const tokens = await withAdmin(inv, (admin) => admin.list('token'))
  const now = inv.clock.now()
  const showSecrets = booleanFlag(inv.flags, 'show-secrets') === true
  const rows = tokens.map((t) => ({
    name: showSecrets || t.spec.join_method !== 'token' ? t.metadata.name : maskToken(t.metadata.name),
    bot: t.spec.bot_name,
    join_method: t.spec.join_method,
    expires: t.metadata.expires ?? null,
    allow: t.spec.allow,
  }))
  inv.io.stdout(
    renderData(inv.format, rows, () =>
      renderTable(
        ['TOKEN', 'BOT', 'METHOD', 'EXPIRES', 'ALLOW'],
        rows.map((r) => [
          r.name,
          r.bot,
          r.join_method,
          r.expires === null ? 'never' : humanTime(r.expires, now),
          r.allow.map((a) => a.aws_arn ?? a.aws_account ?? '').join(', ') || '-',
        ]),
      ),
    ),
  )
  return 0
}

export async function runTokensRm(inv: Invocation): Promise<number> {
  const name = inv.args[0] as string
  await withAdmin(inv, (admin) => admin.remove('token', name))
  inv.io.stdout(`token "${maskToken(name)}" deleted`)
  return 0
}
