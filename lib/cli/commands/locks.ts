/**
 * Lock administration on the configured state (`tctl lock`, `tctl get locks`, `tctl rm lock/<id>`):
 *   locks ls [--json]
 *   locks add (--user U | --role R | --bot-instance BOT/ID | --token NAME) [--message M]
 *             [--expires DURATION|RFC3339]                  prints the new lock's id, only
 *   locks rm <id>
 * These act on the state store directly, so they work even when every admin identity is locked.
 *
 * Errors: a command line of the wrong shape is a UsageError (exit 2); a value that fails
 * validation names its option (`--bot-instance: must be "<bot name>/<instance id>"…`, exit 1).
 */
import {
  addLock,
  formatTarget,
  type LockAdminDeps,
  listLocks,
  parseLockExpiry,
  removeLock,
} from '../../auth/lock-admin.ts'
import { InvalidResourceError } from '../../errors.ts'
import { cryptoRandom } from '../../random.ts'
import type { Lock, LockTarget } from '../../resources/types.ts'
import type { CliContext } from '../context.ts'
import { renderTable } from '../table.ts'
import { UsageError } from '../usage-error.ts'

export interface LocksOptions {
  readonly user?: string
  readonly role?: string
  readonly botInstance?: string
  readonly token?: string
  readonly message?: string
  readonly expires?: string
  readonly json?: boolean
}

const USAGE =
  'usage: locks ls [--json] | locks add (--user U | --role R | --bot-instance BOT/ID | --token NAME) [--message M] [--expires 12h|RFC3339] | locks rm <id>'

/** The acting user recorded in `created_by` and the audit log. */
const ACTOR = 'cli'

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

export async function locksCommand(
  ctx: CliContext,
  args: readonly string[],
  options: LocksOptions,
): Promise<number> {
  const deps: LockAdminDeps = {
    store: ctx.store,
    resources: ctx.resources,
    clock: ctx.clock,
    random: cryptoRandom,
    log: ctx.log,
  }
  const [verb, ...rest] = args
  const targets = targetOptions(options)
  if (verb === 'ls' && rest.length === 0 && targets.length === 0) {
    const locks = await listLocks(deps)
    ctx.print(options.json ? JSON.stringify(locks, null, 2) : lockTable(locks))
    return 0
  }
  if (verb === 'add' && rest.length === 0) {
    if (targets.length !== 1)
      throw new UsageError('locks add needs exactly one of --user, --role, --bot-instance, --token')
    const expires =
      options.expires === undefined
        ? undefined
        : parseLockExpiry(options.expires, ctx.clock.now(), '--expires')
    const lock = await addLock(deps, ACTOR, {
      target: targets[0] as LockTarget,
      ...(options.message !== undefined && { message: options.message }),
      ...(expires !== undefined && { expires }),
    }).catch(renameField)
    ctx.print(lock.metadata.name)
    return 0
  }
  if (verb === 'rm' && rest.length === 1 && targets.length === 0) {
    const lock = await removeLock(deps, ACTOR, rest[0] as string)
    ctx.print(`lock "${lock.metadata.name}" removed (${formatTarget(lock.spec.target)})`)
    return 0
  }
  throw new UsageError(USAGE)
}

/** One single-field target per target option given. */
function targetOptions(options: LocksOptions): LockTarget[] {
  const targets: LockTarget[] = []
  if (options.user !== undefined) targets.push({ user: options.user })
  if (options.role !== undefined) targets.push({ role: options.role })
  if (options.botInstance !== undefined) targets.push({ bot_instance: options.botInstance })
  if (options.token !== undefined) targets.push({ join_token: options.token })
  return targets
}

/** A lock schema error, re-worded to name the option the user typed. */
function renameField(err: unknown): never {
  if (err instanceof InvalidResourceError && OPTION_OF[err.field] !== undefined)
    throw new InvalidResourceError(OPTION_OF[err.field] as string, err.problem, { cause: err })
  throw err
}

function lockTable(locks: readonly Lock[]): string {
  return renderTable(
    ['ID', 'TARGET', 'MESSAGE', 'EXPIRES', 'CREATED BY', 'CREATED AT'],
    locks.map((l) => [
      l.metadata.name,
      formatTarget(l.spec.target),
      oneLine(l.spec.message, 60),
      l.metadata.expires ?? 'never',
      l.spec.created_by ?? '-',
      l.spec.created_at ?? '-',
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
