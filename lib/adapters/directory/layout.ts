/**
 * The on-disk layout of a directory destination, and the checks that keep it ours:
 *
 * ```
 * <path>/                      0700 when we create it
 *   .lock                      0600, held while a writer works (lock.ts)
 *   .data -> .v-20260101T000000000Z-1f2e…   the current set: swapped by rename(), atomically
 *   .v-20260101T000000000Z-1f2e…/           0700, one complete set, never modified once linked
 *     key  tlscert  …                       0600 each
 *   key -> .data/key           visible names, for tools that expect plain files
 *   tlscert -> .data/tlscert
 * ```
 *
 * Nothing here ever follows a symbolic link it did not create: `.data` must point at a
 * `.v-…` directory by name, version directories must be real directories, artifacts are opened
 * with `O_NOFOLLOW`, and a visible name must be our own link.
 */
import { constants, type Stats } from 'node:fs'
import { lstat, mkdir, open, readlink, realpath, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { InvalidConfigError } from '../../errors.ts'
import { type Random, randomHex } from '../../random.ts'

/** The link naming the current version directory. */
export const DATA_LINK = '.data'
/** The link a writer builds before renaming it over {@link DATA_LINK}. */
export const DATA_TMP = '.data.tmp'
export const LOCK_FILE = '.lock'
/** Version directories: `.v-<UTC timestamp to the millisecond>-<64 random bits>`. */
export const VERSION_PATTERN = /^\.v-\d{8}T\d{9}Z-[0-9a-f]{16}$/
/** Largest artifact a read accepts: real ones are a few KiB. */
export const MAX_ARTIFACT_BYTES = 4 * 1024 * 1024

/** See `DirectoryDestinationOptions.symlinks`. */
export type SymlinkPolicy = 'secure' | 'try-secure' | 'insecure'

export function newVersionName(now: Date, random: Random): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '')
  return `.v-${stamp}-${randomHex(random, 8)}`
}

/**
 * Checks the destination directory against the symlink policy, creating it (0700) first when
 * `create` is set.
 * @returns false when the directory does not exist (and `create` is not set).
 * @throws InvalidConfigError (field `path`) when the policy refuses the path or it is not a
 *   directory.
 */
export async function checkRoot(root: string, policy: SymlinkPolicy, create: boolean): Promise<boolean> {
  let stats = await lstatOrUndefined(root)
  if (stats === undefined) {
    if (!create) return false
    await createDirectory(root)
    stats = await lstat(root)
  }
  if (stats.isSymbolicLink()) {
    if (policy !== 'insecure') {
      throw new InvalidConfigError(
        'path',
        `${root} is a symbolic link; name the real directory, or set symlinks: insecure to allow it`,
      )
    }
    stats = await stat(root).catch(() => undefined)
  }
  if (!stats?.isDirectory()) throw new InvalidConfigError('path', `${root} is not a directory`)
  if (policy === 'secure') {
    const real = await realpath(root)
    if (real !== root) {
      throw new InvalidConfigError(
        'path',
        `${root} resolves through a symbolic link (to ${real}); symlinks: secure forbids that`,
      )
    }
  }
  return true
}

/** mkdir's mode passes through the umask: set 0700 again on every directory created here. */
async function createDirectory(root: string): Promise<void> {
  try {
    const first = await mkdir(root, { recursive: true, mode: 0o700 })
    for (let d = root; first !== undefined; d = dirname(d)) {
      const handle = await open(d, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW)
      await handle.chmod(0o700).finally(() => handle.close())
      if (d === first || d === dirname(d)) break
    }
  } catch (err) {
    throw fsError(root, 'cannot be created as a directory with mode 0700', err)
  }
}

/**
 * The name of the current version directory, or `undefined` before the first write.
 * @throws InvalidConfigError when `.data` is not our link to a `.v-…` name (tampering).
 */
export async function currentVersion(root: string): Promise<string | undefined> {
  const link = join(root, DATA_LINK)
  const stats = await lstatOrUndefined(link)
  if (stats === undefined) return undefined
  if (!stats.isSymbolicLink()) throw notOurs(link, stats)
  const target = await readlink(link)
  if (!VERSION_PATTERN.test(target)) {
    throw new InvalidConfigError(
      'path',
      `${link} points to ${target}, not to a version directory; refusing it`,
    )
  }
  return target
}

/**
 * Checks that a version directory named by `.data` is a real directory.
 * @returns false when it is gone (a write replaced and removed it meanwhile).
 * @throws InvalidConfigError when something else took its name.
 */
export async function isVersionDirectory(root: string, version: string): Promise<boolean> {
  const path = join(root, version)
  const stats = await lstatOrUndefined(path)
  if (stats === undefined) return false
  if (!stats.isDirectory()) throw notOurs(path, stats)
  return true
}

/**
 * Checks that each name is free or already our link (`<name> -> .data/<name>`), so a write
 * never replaces or follows a file somebody else put there.
 * @throws InvalidConfigError naming the first foreign entry.
 */
export async function checkVisibleNames(root: string, names: Iterable<string>): Promise<void> {
  for (const name of names) {
    const path = join(root, name)
    const stats = await lstatOrUndefined(path)
    if (stats !== undefined && !(await isOurLink(path, name, stats))) throw notOurs(path, stats)
  }
}

/** True when `path` is the visible link `<name> -> .data/<name>`. */
export async function isOurLink(path: string, name: string, stats: Stats): Promise<boolean> {
  return stats.isSymbolicLink() && (await readlink(path)) === `${DATA_LINK}/${name}`
}

/** The error for an entry we did not create where one of ours belongs. */
export function notOurs(path: string, stats: Stats): InvalidConfigError {
  const kind = stats.isSymbolicLink()
    ? 'a symbolic link it did not create'
    : stats.isDirectory()
      ? 'a directory'
      : stats.isFile()
        ? 'a regular file'
        : 'a special file'
  return new InvalidConfigError(
    'path',
    `${path} is ${kind}, not managed by credbroker; remove it or choose another destination (it is never followed or overwritten)`,
  )
}

/**
 * Reads a regular file without following a symbolic link.
 * @returns undefined when it does not exist.
 */
export async function readRegularFile(path: string): Promise<Uint8Array | undefined> {
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined
    throw fsError(path, 'cannot be read', err)
  }
  try {
    const stats = await handle.stat()
    if (!stats.isFile()) throw notOurs(path, stats)
    if (stats.size > MAX_ARTIFACT_BYTES) {
      throw new InvalidConfigError('path', `${path} is larger than ${MAX_ARTIFACT_BYTES} bytes`)
    }
    return new Uint8Array(await handle.readFile())
  } finally {
    await handle.close()
  }
}

export async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path)
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined
    throw fsError(path, 'cannot be inspected', err)
  }
}

/**
 * Filesystem failures the operator must fix (permissions, a read-only mount, a symlink met by
 * `O_NOFOLLOW`) become InvalidConfigError naming the path; anything else is passed through.
 */
export function fsError(path: string, problem: string, err: unknown): unknown {
  const code = errnoOf(err)
  if (code === 'ELOOP')
    return new InvalidConfigError('path', `${path} is a symbolic link; refusing to follow it`)
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR' || code === 'EEXIST') {
    return new InvalidConfigError('path', `${path} ${problem} (${code})`, { cause: err })
  }
  return err
}

export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}
