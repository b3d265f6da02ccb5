/**
 * The OpenSSL command line as an independent judge of our X.509 certificates (Debian package
 * `openssl`). Every call writes its inputs to a fresh 0700 temp dir and removes it afterwards.
 * (`ssh-keygen -L` for SSH certificates is `sshKeygenList` in `sshd.ts`.)
 *
 * @example
 * ```ts
 * const { ok, output } = await opensslVerify({ caPems: [caPem], leafPem, purpose: 'sslclient' })
 * assert.equal(ok, true, output)
 * ```
 */

import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { runProgram } from './run-program.ts'

const TIMEOUT_MS = 10_000

export interface VerifyOptions {
  /** Trust anchors (self-signed roots), concatenated into `-CAfile`. */
  readonly caPems: readonly string[]
  /** The certificate to verify. */
  readonly leafPem: string
  /** Intermediates sent along with the leaf (`-untrusted`). */
  readonly untrustedPems?: readonly string[]
  /** `-purpose`: checks keyUsage/extKeyUsage of the leaf (and CA) for TLS client or server use. */
  readonly purpose?: 'sslclient' | 'sslserver'
  /** `-attime`: verify as of this instant instead of now (whole seconds). */
  readonly atTime?: Date
}

export interface VerifyResult {
  /** `openssl verify` exited 0. */
  readonly ok: boolean
  /** stdout and stderr together, e.g. `error 10 at 0 depth lookup: certificate has expired`. */
  readonly output: string
}

/** Runs `openssl verify` against only the given CAs (the system trust store is switched off). */
export async function opensslVerify(options: VerifyOptions): Promise<VerifyResult> {
  if (options.caPems.length === 0) throw new TypeError('opensslVerify needs at least one CA')
  return withTempDir(async (dir) => {
    const caFile = join(dir, 'ca.pem')
    const leafFile = join(dir, 'leaf.pem')
    writeFileSync(caFile, options.caPems.join(''))
    writeFileSync(leafFile, options.leafPem)
    const args = ['verify', '-no-CApath', '-no-CAstore', '-CAfile', caFile]
    if (options.untrustedPems?.length) {
      const untrustedFile = join(dir, 'untrusted.pem')
      writeFileSync(untrustedFile, options.untrustedPems.join(''))
      args.push('-untrusted', untrustedFile)
    }
    if (options.purpose) args.push('-purpose', options.purpose)
    if (options.atTime) args.push('-attime', String(Math.floor(options.atTime.getTime() / 1000)))
    args.push(leafFile)
    const result = await openssl(args)
    return { ok: result.code === 0, output: result.stdout + result.stderr }
  })
}

/** `openssl x509 -noout -text` of a PEM certificate; throws if OpenSSL cannot parse it. */
export async function opensslText(pem: string): Promise<string> {
  return withTempDir(async (dir) => {
    const file = join(dir, 'cert.pem')
    writeFileSync(file, pem)
    const result = await openssl(['x509', '-noout', '-text', '-in', file])
    if (result.code !== 0) throw new Error(`openssl x509 failed (${result.code}): ${result.stderr}`)
    return result.stdout
  })
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'credbroker-openssl-'))
  try {
    return await fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Runs `openssl` without a shell; kills it after {@link TIMEOUT_MS}. */
function openssl(args: readonly string[]) {
  return runProgram(findOpenssl(), args, { timeoutMs: TIMEOUT_MS })
}

function findOpenssl(): string {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/bin']) {
    if (!dir.startsWith('/')) continue
    const candidate = join(dir, 'openssl')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this directory
    }
  }
  throw new Error('openssl was not found on PATH. Install it with: apt-get install -y openssl')
}
