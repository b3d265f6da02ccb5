/**
 * The daemon's reissue bearer token, from the file the bot config names (`reissue.token_file`).
 * The file must be a regular file readable by its owner only (0600 or 0400): a token any local
 * user can read would let them trigger issuance, so a looser mode is a configuration error, not a
 * warning.
 */
import { lstatSync, readFileSync } from 'node:fs'
import { InvalidConfigError } from '../errors.ts'

const FIELD = 'reissue.token_file'

/** @throws InvalidConfigError naming `reissue.token_file` (missing, not a file, mode, empty). */
export function readReissueToken(path: string): string {
  let stat: ReturnType<typeof lstatSync>
  try {
    stat = lstatSync(path)
  } catch {
    throw new InvalidConfigError(FIELD, `cannot read ${path}`)
  }
  if (!stat.isFile()) throw new InvalidConfigError(FIELD, `${path} must be a regular file (not a link)`)
  if ((stat.mode & 0o077) !== 0) {
    const mode = (stat.mode & 0o777).toString(8).padStart(4, '0')
    throw new InvalidConfigError(FIELD, `${path} has mode ${mode}; it must be 0600 (chmod 600 ${path})`)
  }
  const token = readFileSync(path, 'utf8').trim()
  if (token.length < 16 || /\s/.test(token)) {
    throw new InvalidConfigError(FIELD, `${path} must hold one token of at least 16 characters`)
  }
  return token
}
