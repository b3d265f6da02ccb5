/**
 * `bots instances add|ls|show`: join tokens that start a new bot instance, and the instances'
 * joins, generations and heartbeats.
 */
import type { BotInstance } from '../../resources/types.ts'
import { withAdmin } from '../admin/open-backend.ts'
import type { Invocation } from '../command.ts'
import { humanTime } from '../human.ts'
import { renderData } from '../output.ts'
import { renderTable } from '../table.ts'
import { UsageError } from '../usage-error.ts'
import { printToken, tokenTtl } from './bots.ts'

export async function runInstancesAdd(inv: Invocation): Promise<number> {
  const ttlMs = tokenTtl(inv)
  const added = await withAdmin(inv, (admin) => admin.addJoinToken(inv.args[0] as string, ttlMs))
  printToken(inv, added)
  return 0
}

/** The facts of an instance that fit a table row or a JSON record. */
function instanceRecord(i: BotInstance) {
  const heartbeat = i.status.latest_heartbeats.at(-1)
  const auth = i.status.latest_authentications.at(-1) ?? i.status.initial_authentication
  return {
    bot: i.spec.bot_name,
    instance_id: i.spec.instance_id,
    generation: i.status.generation,
    join_method: auth?.join_method ?? null,
    joined_at: i.status.initial_authentication?.authenticated_at ?? null,
    last_authenticated_at: auth?.authenticated_at ?? null,
    last_heartbeat_at: heartbeat?.recorded_at ?? null,
    hostname: heartbeat?.hostname ?? null,
  }
}

export async function runInstancesLs(inv: Invocation): Promise<number> {
  const bot = inv.args[0]
  const all = await withAdmin(inv, (admin) => admin.list('bot_instance'))
  const rows = all.filter((i) => bot === undefined || i.spec.bot_name === bot).map(instanceRecord)
  const now = inv.clock.now()
  inv.io.stdout(
    renderData(inv.format, rows, () =>
      renderTable(
        ['INSTANCE', 'GENERATION', 'JOIN', 'LAST SEEN', 'HOST'],
        rows.map((r) => [
          `${r.bot}/${r.instance_id}`,
          String(r.generation),
          r.join_method ?? '-',
          humanTime(r.last_heartbeat_at ?? r.last_authenticated_at ?? undefined, now),
          r.hostname ?? '-',
        ]),
      ),
    ),
  )
  return 0
}

export async function runInstancesShow(inv: Invocation): Promise<number> {
  const ref = inv.args[0] as string
  if (!ref.includes('/')) throw new UsageError('expected <bot>/<instance id>')
  const instance = await withAdmin(inv, (admin) => admin.get('bot_instance', ref))
  const now = inv.clock.now()
  const r = instanceRecord(instance)
  inv.io.stdout(
    renderData(inv.format, instance, () =>
      [
        `instance:    ${r.bot}/${r.instance_id}`,
        `generation:  ${r.generation}`,
        `joined:      ${humanTime(r.joined_at ?? undefined, now)} (${r.join_method ?? '-'})`,
        `last auth:   ${humanTime(r.last_authenticated_at ?? undefined, now)}`,
        `heartbeat:   ${humanTime(r.last_heartbeat_at ?? undefined, now)}${r.hostname ? ` from ${r.hostname}` : ''}`,
        ...(instance.spec.previous_instance_id ? [`previous:    ${instance.spec.previous_instance_id}`] : []),
      ].join('\n'),
    ),
  )
  return 0
}
