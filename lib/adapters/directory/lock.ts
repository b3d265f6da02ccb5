/**
 * Mutual exclusion for writers of one directory destination.
 *
 * Two layers:
 * - **in this process**, writes to one path queue behind each other (no polling);
 * - **across processes**, a lock file `<path>/.lock` created with `O_CREAT | O_EXCL |
 *   O_NOFOLLOW` (exactly one creator succeeds; a link planted there is never followed) holding
 *   `{ pid, host, acquiredAt, token }`. A writer that finds it waits up to `timeoutMs`, polling.
 *
 * Stale-lock rule: a lock is broken when its holder is a process on this host that no longer
 * exists, or when it is older than `staleAfterMs` (a write takes milliseconds; a lock that old
 * was left by a crash on another host sharing the directory, or by a PID-namespaced container).
 * Breaking re-checks the file's inode and token just before unlinking it; two writers breaking
 * the same stale lock in that instant could both proceed, which needs a crash and a race at once.
 * Release removes the lock only if it still holds our token. A lock's age is its holder's
 * `acquiredAt` read against the inspecting process's clock, so every process sharing a
 * directory must run on the same (system) clock: a lock stamped by a clock far behind looks
 * abandoned to the others and is broken.
 */
import { constants } from 'node:fs'
import { open, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import type { Clock } from '../../clock.ts'
import { InvalidConfigError, ThrottledError } from '../../errors.ts'
import { type Random, randomHex } from '../../random.ts'
import { errnoOf, fsError, LOCK_FILE, lstatOrUndefined, readRegularFile } from './layout.ts'

export interface LockOptions {
  /** How long a writer waits for another process's lock (default 10 s; 0 fails at once). */
  timeoutMs?: number
  /** Age after which any lock is considered abandoned (default 60 s). */
  staleAfterMs?: number
  /** Polling interval while waiting (default 50 ms). */
  pollMs?: number
}

interface LockOwner {
  pid: number
  host: string
  acquiredAt: number
  token: string
}

/** The tail of each path's in-process queue. */
const queues = new Map<string, Promise<void>>()

/**
 * Runs `fn` holding the destination's lock.
 * @throws ThrottledError (`ERR_THROTTLED`) when another process holds a live lock past
 *   `timeoutMs`; InvalidConfigError when `.lock` is not a regular file.
 */
export async function withLock<T>(
  root: string,
  deps: { clock: Clock; random: Random; options: LockOptions },
  fn: () => Promise<T>,
): Promise<T> {
  const previous = queues.get(root) ?? Promise.resolve()
  let done!: () => void
  const tail = previous.then(() => new Promise<void>((resolve) => (done = resolve)))
  queues.set(root, tail)
  await previous
  try {
    const release = await acquire(root, deps)
    try {
      return await fn()
    } finally {
      await release()
    }
  } finally {
    done()
    if (queues.get(root) === tail) queues.delete(root)
  }
}

async function acquire(
  root: string,
  { clock, random, options }: { clock: Clock; random: Random; options: LockOptions },
): Promise<() => Promise<void>> {
  const file = join(root, LOCK_FILE)
  const timeoutMs = options.timeoutMs ?? 10_000
  const staleAfterMs = options.staleAfterMs ?? 60_000
  const started = performance.now()
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    acquiredAt: clock.now().getTime(),
    token: randomHex(random, 16),
  }
  for (;;) {
    if (await tryCreate(file, owner)) return () => releaseIfOurs(file, owner.token)
    const holder = await inspect(file)
    if (holder === undefined) continue // released meanwhile: try again at once
    const age = clock.now().getTime() - (holder.owner?.acquiredAt ?? holder.mtimeMs)
    if (age > staleAfterMs || (holder.owner !== undefined && !alive(holder.owner))) {
      await breakLock(file, holder)
      continue
    }
    if (performance.now() - started >= timeoutMs) {
      const who = holder.owner ? `pid ${holder.owner.pid} on ${holder.owner.host}` : 'an unknown writer'
      throw new ThrottledError(
        `directory ${root} is locked by ${who}; if no other process writes there, remove ${file}`,
      )
    }
    await delay(options.pollMs ?? 50)
  }
}

async function tryCreate(file: string, owner: LockOwner): Promise<boolean> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(file, flags, 0o600)
  } catch (err) {
    if (errnoOf(err) === 'EEXIST') return false
    throw fsError(file, 'cannot be created', err)
  }
  try {
    await handle.writeFile(JSON.stringify(owner))
  } finally {
    await handle.close()
  }
  return true
}

interface Holder {
  owner: LockOwner | undefined
  ino: number
  mtimeMs: number
}

/** The current lock, or undefined when it vanished. An unparsable one has no owner. */
async function inspect(file: string): Promise<Holder | undefined> {
  const stats = await lstatOrUndefined(file)
  if (stats === undefined) return undefined
  if (!stats.isFile()) throw new InvalidConfigError('path', `${file} is not a regular file; remove it`)
  const bytes = await readRegularFile(file)
  if (bytes === undefined) return undefined
  return { owner: parseOwner(bytes), ino: stats.ino, mtimeMs: stats.mtimeMs }
}

function parseOwner(bytes: Uint8Array): LockOwner | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as Partial<LockOwner>
    const ok =
      Number.isSafeInteger(value.pid) &&
      typeof value.host === 'string' &&
      Number.isFinite(value.acquiredAt) &&
      typeof value.token === 'string'
    return ok ? (value as LockOwner) : undefined
  } catch {
    return undefined // a writer crashed between creating the file and writing it
  }
}

/** Only a process on this host can be checked; `EPERM` means it exists under another user. */
function alive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true
  try {
    process.kill(owner.pid, 0)
    return true
  } catch (err) {
    return errnoOf(err) !== 'ESRCH'
  }
}

async function breakLock(file: string, stale: Holder): Promise<void> {
  const now = await inspect(file)
  if (now === undefined || now.ino !== stale.ino || now.owner?.token !== stale.owner?.token) return
  await unlink(file).catch((err: unknown) => {
    if (errnoOf(err) !== 'ENOENT') throw fsError(file, 'cannot be removed', err)
  })
}

async function releaseIfOurs(file: string, token: string): Promise<void> {
  const holder = await inspect(file).catch(() => undefined)
  if (holder?.owner?.token === token) await unlink(file).catch(() => {})
}
