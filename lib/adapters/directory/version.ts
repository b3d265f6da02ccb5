/**
 * The steps of one directory write, each safe to fail: writing a version directory, swapping
 * `.data` to it, maintaining the visible links and removing old versions. The caller holds the
 * destination's lock (lock.ts) throughout; see layout.ts for the layout.
 *
 * Why this order is crash-safe (the technique of Kubernetes' `AtomicWriter`):
 * ```
 * write .v-new/* + fsync ─▶ symlink .data.tmp → .v-new ─▶ rename(.data.tmp, .data) ─▶ links, cleanup
 *   crash here: .data still names the old set;        │   crash after: .data names the new,
 *   .v-new is garbage the next write removes           │   complete set; links are fixed next time
 *                                              the one atomic step
 * ```
 */
import { constants } from 'node:fs'
import { mkdir, open, readdir, rename, rm, symlink, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import {
  DATA_LINK,
  DATA_TMP,
  errnoOf,
  fsError,
  isOurLink,
  lstatOrUndefined,
  notOurs,
  VERSION_PATTERN,
} from './layout.ts'

/** Test seams: a hook that throws simulates a failure at that point of a write. */
export interface DirectoryWriteHooks {
  /** After each artifact file is written and synced into the new version directory. */
  afterArtifact?(name: string): void | Promise<void>
  /** After the version directory is complete and synced, just before `.data` is swapped. */
  beforeSwap?(versionDir: string): void | Promise<void>
}

const CREATE_EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW

/**
 * Writes every artifact into a fresh version directory and syncs files and directory. The
 * directory is made by `mkdir` (0700), which fails if the name exists and never follows a link;
 * files are created with `O_EXCL | O_NOFOLLOW` (0600). On failure the partial directory is
 * removed and the error rethrown.
 */
export async function writeVersion(
  root: string,
  version: string,
  artifacts: ReadonlyMap<string, Uint8Array>,
  hooks: DirectoryWriteHooks,
): Promise<void> {
  const dir = join(root, version)
  // Outside the try: if the name already existed it is not ours to remove.
  await mkdir(dir, { mode: 0o700 }).catch((err: unknown) => {
    throw fsError(dir, 'cannot be created', err)
  })
  try {
    const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW)
    await handle.chmod(0o700).finally(() => handle.close())
    for (const [name, bytes] of artifacts) {
      const handle = await open(join(dir, name), CREATE_EXCLUSIVE, 0o600).catch((err: unknown) => {
        throw fsError(join(dir, name), 'cannot be created', err)
      })
      try {
        await handle.writeFile(bytes)
        await handle.chmod(0o600) // the umask may have narrowed the mode; never widened it
        await handle.sync()
      } finally {
        await handle.close()
      }
      await hooks.afterArtifact?.(name)
    }
    await syncDirectory(dir)
  } catch (err) {
    await removeVersion(root, version)
    throw err
  }
}

/**
 * Points `.data` at `version` with one `rename()`: readers see the old set or the new one.
 * A leftover `.data.tmp` link (a writer crashed after creating it) is removed first.
 */
export async function swapData(root: string, version: string): Promise<void> {
  const tmp = join(root, DATA_TMP)
  const leftover = await lstatOrUndefined(tmp)
  if (leftover !== undefined) {
    if (!leftover.isSymbolicLink()) throw notOurs(tmp, leftover)
    await unlink(tmp)
  }
  // A relative target keeps the destination valid when its directory is moved or mounted elsewhere.
  await symlink(version, tmp)
  try {
    await rename(tmp, join(root, DATA_LINK))
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw fsError(join(root, DATA_LINK), 'cannot be replaced', err)
  }
}

/**
 * Makes every visible name a link `<name> -> .data/<name>` and removes our links for names the
 * current set no longer has. Other entries (files the operator put there) are left alone.
 * @throws InvalidConfigError when a foreign entry appeared where a link belongs.
 */
export async function linkVisibleNames(root: string, names: ReadonlySet<string>): Promise<void> {
  for (const name of names) {
    const path = join(root, name)
    try {
      await symlink(`${DATA_LINK}/${name}`, path)
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw fsError(path, 'cannot be created', err)
      const stats = await lstatOrUndefined(path)
      if (stats !== undefined && !(await isOurLink(path, name, stats))) throw notOurs(path, stats)
    }
  }
  for (const entry of await readdir(root)) {
    if (entry.startsWith('.') || names.has(entry)) continue
    const path = join(root, entry)
    const stats = await lstatOrUndefined(path)
    if (stats !== undefined && (await isOurLink(path, entry, stats))) await unlink(path)
  }
}

/** Removes every version directory except `keep` (old sets, and partial ones from crashes). */
export async function removeOldVersions(root: string, keep: string): Promise<void> {
  for (const entry of await readdir(root)) {
    if (entry !== keep && VERSION_PATTERN.test(entry)) await removeVersion(root, entry)
  }
}

/** Removes a version directory; `rm` deletes links inside it without following them. */
export async function removeVersion(root: string, version: string): Promise<void> {
  const path = join(root, version)
  const stats = await lstatOrUndefined(path)
  if (stats === undefined) return
  if (stats.isDirectory()) await rm(path, { recursive: true, force: true })
  else await unlink(path)
}

/**
 * fsync on a directory persists the names in it (created files, a rename). A read-only open
 * through a link is harmless, so the destination itself may be a link (`symlinks: insecure`).
 */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY)
  try {
    await handle.sync()
  } catch (err) {
    // Some filesystems cannot sync a directory; the data itself was synced already.
    if (errnoOf(err) !== 'EINVAL' && errnoOf(err) !== 'ENOTSUP') throw err
  } finally {
    await handle.close()
  }
}
