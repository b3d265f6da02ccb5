/**
 * Locks (`tctl lock`, `tctl get locks`, `tctl rm lock/<id>`), on the local state or through
 * `--auth-server`:
 *   locks ls
 *   locks add (--user U | --role R | --bot-instance BOT/ID | --token NAME) [--message M]
 *             [--expires DURATION|RFC3339]                  prints the new lock's id, only
 *   locks rm <id>
 * Locally they act on the state store directly, so they work even when every admin identity is
 * locked. The lock is validated here first, so both paths name the option in their errors
 * (`--bot-instance: must be "<bot name>/<instance id>"…`, exit 1); an `--expires` that is not a
 * future duration or instant is a usage error (exit 2).
 */
import { formatTarget } from '../../auth/lock-admin.ts'
import { InvalidResourceError } from '../../errors.ts'
import { validateResource } from '../../resources/parse.ts'
import type { Lock, LockTarget } from '../../resources/types.ts'
import { withAdmin } from '../admin/open-backend.ts'
import { booleanFlag, stringFlag } from '../args.ts'
import type { Invocation } from '../command.ts'
import { expiryFlag } from '../flag-values.ts'
import { humanTime } from '../human.ts'
import { renderData } from '../output.ts'
import { renderTable } from '../table.ts'
import { UsageError } from '../usage-error.ts'

/** Lock document fields → the option that sets them, for error messages. */
const OPTION_OF: Readonly<Record<string, string>> = {
  'spec.target': '--user/--role/--bot-instance/--token',
  'spec.target.user': '--user',
  'spec.target.role': '--role',
  'spec.target.bot_instance': '--bot-instance',
  'spec.target.join_token': '--token',
  'spec.message': '--message',
  'metadata.expires': '--expires',
}

export async function runLocksLs(inv: Invocation): Promise<number> {
  const locks = sortLocks(await withAdmin(inv, (admin) => admin.list('lock')))
  const format = booleanFlag(inv.flags, 'json') ? 'json' : inv.format
  inv.io.stdout(renderData(format, locks, () => lockTable(locks, inv.clock.now())))
  return 0
}

export async function runLocksAdd(inv: Invocation): Promise<number> {
  const targets = targetOptions(inv)
  if (targets.length !== 1)
    throw new UsageError('locks add needs exactly one of --user, --role, --bot-instance, --token')
  const target = targets[0] as LockTarget
  const message = stringFlag(inv.flags, 'message')
  const expires = expiryFlag(inv.flags, 'expires', inv.clock.now())
  checkLock(target, message)
  const lock = await withAdmin(inv, (admin) =>
    admin.addLock({
      target,
      ...(message !== undefined && { message }),
      ...(expires !== undefined && { expires }),
    }),
  )
  inv.io.stdout(lock.metadata.name)
  return 0
}

export async function runLocksRm(inv: Invocation): Promise<number> {
  const lock = await withAdmin(inv, (admin) => admin.removeLock(inv.args[0] as string))
  inv.io.stdout(`lock "${lock.metadata.name}" removed (${formatTarget(lock.spec.target)})`)
  return 0
}

/** One single-field target per target option given. */
function targetOptions(inv: Invocation): LockTarget[] {
  const targets: LockTarget[] = []
  const user = stringFlag(inv.flags, 'user')
  const role = stringFlag(inv.flags, 'role')
  const botInstance = stringFlag(inv.flags, 'bot-instance')
  const token = stringFlag(inv.flags, 'token')
  if (user !== undefined) targets.push({ user })
  if (role !== undefined) targets.push({ role })
  if (botInstance !== undefined) targets.push({ bot_instance: botInstance })
  if (token !== undefined) targets.push({ join_token: token })
  return targets
}

/** Validates the lock as the server will, with errors that name the option the user typed. */
function checkLock(target: LockTarget, message: string | undefined): void {
  try {
    validateResource({
      kind: 'lock',
      version: 'v1',
      metadata: { name: '00000000-0000-4000-8000-000000000000', labels: {} },
      spec: { target, message: message ?? '' },
    })
  } catch (err) {
    if (err instanceof InvalidResourceError && OPTION_OF[err.field] !== undefined)
      throw new InvalidResourceError(OPTION_OF[err.field] as string, err.problem, { cause: err })
    throw err
  }
}

/** Oldest first (by `created_at`, then id), as lib/auth/lock-admin.ts lists them. */
function sortLocks(locks: Lock[]): Lock[] {
  const key = (l: Lock) => `${l.spec.created_at ?? ''}\u0000${l.metadata.name}`
  return locks.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
}

function lockTable(locks: readonly Lock[], now: Date): string {
  return renderTable(
    ['ID', 'TARGET', 'MESSAGE', 'EXPIRES', 'CREATED BY', 'CREATED AT'],
    locks.map((l) => [
      l.metadata.name,
      formatTarget(l.spec.target),
      oneLine(l.spec.message, 60),
      l.metadata.expires === undefined ? 'never' : humanTime(l.metadata.expires, now),
      l.spec.created_by ?? '-',
      l.spec.created_at === undefined ? '-' : humanTime(l.spec.created_at, now),
    ]),
  )
}

/** The first line of `text`, at most `max` characters, with `…` when anything was cut. */
function oneLine(text: string, max: number): string {
  if (text === '') return '-'
  const first = text.split('\n', 1)[0] as string
  const cut = first.length > max ? first.slice(0, max - 1) : first
  return cut === text ? cut : `${cut}…`
}
