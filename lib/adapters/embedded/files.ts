/**
 * The embedded store's files on disk: the directory is created 0700, the database and its `-wal`
 * and `-shm` sidecars are 0600 whatever the umask, and a path that is a symbolic link, a directory
 * or another non-regular file is refused. Every failure is an InvalidConfigError (`ERR_INVALID_CONFIG`,
 * field `path`).
 */
import {
  chmodSync,
  closeSync,
  fchmodSync,
  constants as fs,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  type Stats,
} from 'node:fs'
import { dirname } from 'node:path'
import { InvalidConfigError } from '../../errors.ts'

/** Which file {@link prepareFile} checked, so {@link assertSameFile} can tell it was not swapped. */
export interface FileIdentity {
  dev: number
  ino: number
}

/**
 * Creates the parent directory (0700) and the database file (0600) if missing, and checks that
 * `file` is a regular file rather than a symbolic link, a directory or a device. Modes are set
 * with chmod, so the umask cannot widen them. `O_NOFOLLOW` closes the gap between the check and
 * the open.
 */
export function prepareFile(file: string): FileIdentity {
  ensureDirectory(dirname(file))
  refuseNonRegular(file, lstatOrUndefined(file))
  let fd: number
  try {
    fd = openSync(file, fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL | (fs.O_NOFOLLOW ?? 0), 0o600)
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw fileError(file, 'cannot be created', err)
    try {
      // O_NONBLOCK: opening a FIFO must not hang; it is refused below.
      fd = openSync(file, fs.O_RDONLY | (fs.O_NOFOLLOW ?? 0) | (fs.O_NONBLOCK ?? 0))
    } catch (openErr) {
      throw fileError(file, 'cannot be opened', openErr)
    }
  }
  try {
    const stats = fstatSync(fd)
    refuseNonRegular(file, stats)
    if ((stats.mode & 0o777) !== 0o600) fchmodSync(fd, 0o600)
    return { dev: stats.dev, ino: stats.ino }
  } catch (err) {
    throw err instanceof InvalidConfigError ? err : fileError(file, 'cannot be given mode 0600', err)
  } finally {
    closeSync(fd)
  }
}

function ensureDirectory(dir: string): void {
  try {
    const first = mkdirSync(dir, { recursive: true, mode: 0o700 })
    // mkdir's mode passes through the umask: set it again on each directory created here, and
    // only on those (an existing directory such as /tmp keeps its mode).
    for (let d = dir; first !== undefined; d = dirname(d)) {
      chmodSync(d, 0o700)
      if (d === first || d === dirname(d)) break
    }
  } catch (err) {
    throw fileError(dir, 'cannot be created as a directory with mode 0700', err)
  }
}

/** After SQLite opened `file`: it must still be the file {@link prepareFile} checked. */
export function assertSameFile(file: string, identity: FileIdentity): void {
  const stats = lstatOrUndefined(file)
  if (!stats?.isFile() || stats.dev !== identity.dev || stats.ino !== identity.ino) {
    throw new InvalidConfigError('path', `${file} was replaced while it was being opened`)
  }
}

/**
 * The WAL and shared-memory files hold database pages too. SQLite gives them the database file's
 * mode itself (also when another process re-creates them later); setting it here as well keeps
 * the guarantee independent of that behaviour.
 */
export function secureSidecars(file: string): void {
  for (const sidecar of [`${file}-wal`, `${file}-shm`]) {
    const stats = lstatOrUndefined(sidecar)
    if (stats === undefined) continue
    refuseNonRegular(sidecar, stats)
    if ((stats.mode & 0o777) === 0o600) continue
    try {
      chmodSync(sidecar, 0o600)
    } catch (err) {
      throw fileError(sidecar, 'cannot be given mode 0600', err)
    }
  }
}

function refuseNonRegular(file: string, stats: Stats | undefined): void {
  if (stats === undefined || stats.isFile()) return
  if (stats.isSymbolicLink()) {
    throw new InvalidConfigError('path', `${file} is a symbolic link; name the database file itself`)
  }
  const what = stats.isDirectory() ? 'a directory' : 'not a regular file'
  throw new InvalidConfigError('path', `${file} is ${what}; it must name the database file`)
}

function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file)
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined
    throw fileError(file, 'cannot be inspected', err)
  }
}

function fileError(file: string, problem: string, err: unknown): InvalidConfigError {
  // ELOOP: O_NOFOLLOW met a symbolic link that appeared after the lstat() check.
  if (errnoOf(err) === 'ELOOP') return new InvalidConfigError('path', `${file} is a symbolic link`)
  return new InvalidConfigError('path', `${file} ${problem} (${errnoOf(err) ?? 'unknown error'})`, {
    cause: err,
  })
}

function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}
