/**
 * The directory destination: artifacts as files, replaced atomically as one set.
 *
 * Each write puts the whole set into a fresh hidden version directory, then swaps the `.data`
 * link to it with one `rename()`, then removes the previous version (layout in `layout.ts`, the
 * crash-safety argument in `version.ts`). A reader that resolves `.data` once sees one complete
 * set. The visible names (`<path>/key -> .data/key`) are for tools that expect plain files; a
 * tool that opens several of them while a write happens may get two issuances, exactly as with
 * Kubernetes' projected volumes. `credbroker fetch` and {@link DirectoryDestination.readAll} go
 * through `.data`.
 *
 * ## Security
 * - The directory is created 0700 when missing; version directories are 0700, files 0600,
 *   whatever the umask. An existing directory keeps its mode (the operator may share it).
 * - `symlinks` (tbot's option) governs the destination path itself:
 *   `secure` refuses a path that is, or passes through, a symbolic link; `try-secure` (the
 *   default) refuses a path that is a link. (tbot's `try-secure` falls back to following links
 *   where the kernel cannot forbid them; we can always check the last component on Linux, so we
 *   do.) `insecure` follows a linked path.
 * - Inside the directory no link is ever followed, whatever the policy: a planted `.data`, a
 *   version name that is a link, or a file or foreign link where an artifact's visible name goes
 *   makes the write fail with an InvalidConfigError naming the entry. We refuse rather than
 *   replace: an unexpected file there means someone else uses the directory, and deleting their
 *   file would hide that.
 * - Writers are serialised by `lock.ts`.
 *
 * @example
 * const out = new DirectoryDestination({ path: '/opt/machine-id' })
 * await out.write(new Map([['key', keyPem], ['tlscert', certPem]]), { issuanceId })
 */
import { readdir } from 'node:fs/promises'
import { isAbsolute, join, normalize } from 'node:path'
import { type Clock, systemClock } from '../../clock.ts'
import { ThrottledError } from '../../errors.ts'
import {
  type ArtifactContent,
  assertArtifactName,
  type Destination,
  isArtifactName,
  prepareArtifacts,
  type WriteMeta,
  type WriteResult,
} from '../../ports/destination.ts'
import { cryptoRandom, type Random } from '../../random.ts'
import {
  checkRoot,
  checkVisibleNames,
  currentVersion,
  errnoOf,
  isVersionDirectory,
  newVersionName,
  readRegularFile,
  type SymlinkPolicy,
} from './layout.ts'
import { type LockOptions, withLock } from './lock.ts'
import {
  type DirectoryWriteHooks,
  linkVisibleNames,
  removeOldVersions,
  removeVersion,
  swapData,
  syncDirectory,
  writeVersion,
} from './version.ts'

export type { SymlinkPolicy } from './layout.ts'
export type { LockOptions } from './lock.ts'
export type { DirectoryWriteHooks } from './version.ts'

export interface DirectoryDestinationOptions {
  /** Absolute path of the destination directory. */
  path: string
  /** Default `try-secure`; see "Security" above. */
  symlinks?: SymlinkPolicy
  /** Names version directories. */
  clock?: Clock
  random?: Random
  lock?: LockOptions
  /** Test seams for failure injection; never set in production. */
  hooks?: DirectoryWriteHooks
}

/** Reads retry when a concurrent write replaced the set while they read it. */
const OPTIMISTIC_READS = 3
const CHANGED = Symbol('changed')

export class DirectoryDestination implements Destination {
  readonly #root: string
  readonly #policy: SymlinkPolicy
  readonly #clock: Clock
  readonly #random: Random
  readonly #lock: LockOptions
  readonly #hooks: DirectoryWriteHooks

  /** @throws TypeError when `path` is not absolute or `symlinks` is unknown (programmer errors). */
  constructor(options: DirectoryDestinationOptions) {
    if (typeof options.path !== 'string' || !isAbsolute(options.path)) {
      throw new TypeError(`a directory destination needs an absolute path, got ${String(options.path)}`)
    }
    const policy = options.symlinks ?? 'try-secure'
    if (!['secure', 'try-secure', 'insecure'].includes(policy)) {
      throw new TypeError(`unknown symlinks policy ${String(policy)}`)
    }
    this.#root = normalize(options.path).replace(/(.)\/+$/, '$1')
    this.#policy = policy
    this.#clock = options.clock ?? systemClock
    this.#random = options.random ?? cryptoRandom
    this.#lock = options.lock ?? {}
    this.#hooks = options.hooks ?? {}
  }

  /**
   * @throws TypeError as the port says; InvalidConfigError (field `path`) when the directory is
   *   refused by the symlink policy or holds an entry we did not create where one of ours goes;
   *   ThrottledError when another process holds the lock too long.
   * @returns `{ versionId }`: the name of the version directory now behind `.data`.
   */
  async write(artifacts: ReadonlyMap<string, ArtifactContent>, meta?: WriteMeta): Promise<WriteResult> {
    const set = prepareArtifacts(artifacts, meta)
    const root = this.#root
    await checkRoot(root, this.#policy, true)
    return withLock(root, this.#lockDeps(), async () => {
      await currentVersion(root) // refuses a tampered .data before anything is written
      await checkVisibleNames(root, set.keys())
      const version = newVersionName(this.#clock.now(), this.#random)
      await writeVersion(root, version, set, this.#hooks)
      try {
        await this.#hooks.beforeSwap?.(join(root, version))
        await swapData(root, version)
      } catch (err) {
        await removeVersion(root, version)
        throw err
      }
      // From here on the new set is current; what follows only tidies up.
      await linkVisibleNames(root, new Set(set.keys()))
      await removeOldVersions(root, version)
      await syncDirectory(root)
      return { versionId: version }
    })
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    assertArtifactName(name)
    return this.#consistently(async (root, version) => {
      const bytes = await readRegularFile(join(root, version, name))
      // Missing: either the set has no such artifact, or the set was replaced and removed.
      if (bytes === undefined && (await currentVersion(root)) !== version) return CHANGED
      return bytes
    }, undefined)
  }

  async readAll(): Promise<Map<string, Uint8Array>> {
    return this.#consistently(async (root, version) => {
      const out = new Map<string, Uint8Array>()
      let names: string[]
      try {
        names = (await readdir(join(root, version))).filter((n) => isArtifactName(n)).sort()
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') return CHANGED
        throw err
      }
      for (const name of names) {
        const bytes = await readRegularFile(join(root, version, name))
        if (bytes === undefined) return CHANGED
        out.set(name, bytes)
      }
      // Files in a version never change, but a replaced version is deleted file by file: if
      // `.data` still names it, nothing was deleted before we listed it.
      return (await currentVersion(root)) === version ? out : CHANGED
    }, new Map())
  }

  describe(): string {
    return `directory ${this.#root}`
  }

  /**
   * Runs `read` against the current version, again if a write replaced it meanwhile. Reads are
   * optimistic; a reader that keeps losing the race to busy writers reads once more holding the
   * writers' lock, when nothing can change (which needs write access to the directory; without
   * it that last attempt fails with the lock file's InvalidConfigError).
   */
  async #consistently<T>(
    read: (root: string, version: string) => Promise<T | typeof CHANGED>,
    empty: T,
  ): Promise<T> {
    const root = this.#root
    const attempt = async (): Promise<T | typeof CHANGED> => {
      if (!(await checkRoot(root, this.#policy, false))) return empty
      const version = await currentVersion(root)
      if (version === undefined) return empty
      if (!(await isVersionDirectory(root, version))) return CHANGED
      return read(root, version)
    }
    for (let i = 0; i < OPTIMISTIC_READS; i++) {
      const result = await attempt()
      if (result !== CHANGED) return result
    }
    const locked = await withLock(root, this.#lockDeps(), attempt)
    if (locked !== CHANGED) return locked
    throw new ThrottledError(`directory ${root} changed while being read under its lock; try again`)
  }

  #lockDeps() {
    return { clock: this.#clock, random: this.#random, options: this.#lock }
  }
}
