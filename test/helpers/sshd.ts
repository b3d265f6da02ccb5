/**
 * A real OpenSSH `sshd` for tests: one process on 127.0.0.1 only, trusting the given user CAs,
 * plus the real `ssh` client to try logins against it and `ssh-keygen -L` to list certificates.
 *
 * Set-up facts this relies on (`/work/shared/reference/stack-notes.md` §7, and checked here):
 * - Debian packages: `openssh-server` (for `/usr/sbin/sshd`) and `openssh-client` (`ssh`,
 *   `ssh-keygen`).
 * - sshd must be started by absolute path (it re-executes itself for every connection) and wants
 *   `/run/sshd` (Debian's privilege-separation directory) to exist; it is created when missing.
 * - `-D -e` keeps sshd in the foreground and sends its log (LogLevel VERBOSE) to stderr, which is
 *   collected for {@link Sshd.log}. Per-connection lines may arrive after the client has already
 *   exited, so assertions on them go through {@link Sshd.waitForLog}.
 * - OpenSSH >= 9.8 penalises source addresses after failed logins (`PerSourcePenalties`), which
 *   would make a file full of negative tests flaky; it is switched off where it exists.
 *
 * @example
 * ```ts
 * const sshd = await startSshd({
 *   trustedUserCaKeys: [authorizedKeyLine(ca.publicKey)],
 *   principalsFor: { [currentUser()]: ['alice'] }, // log in as the current user with principal alice
 * })
 * const result = await sshd.tryLogin({ user: currentUser(), keyFile, certFile })
 * await sshd.stop()
 *
 * // An sshd run from an `ssh_host` output's files, and a client that checks the host strictly:
 * const host = await startSshd({
 *   hostKeyFile: join(out, 'ssh_host'),
 *   hostCertificateFile: join(out, 'ssh_host-cert.pub'),
 *   trustedUserCaKeysFile: join(out, 'ssh_host-user-ca.pub'),
 *   principalsFor: { [currentUser()]: ['alice'] },
 * })
 * await host.tryLogin({ user, keyFile, certFile, knownHostsFile, host: 'localhost' })
 * ```
 */
import { spawn } from 'node:child_process'
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { delimiter, join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { PeerLog } from './peer-log.ts'
import { freePort, supervise, terminate } from './peer-process.ts'
import { runProgram } from './run-program.ts'

const HOST = '127.0.0.1'
const PRIVSEP_DIR = '/run/sshd'
const READY_POLL_MS = 25
const READY_DEADLINE_MS = 10_000
const LOGIN_TIMEOUT_MS = 15_000
const TOOL_TIMEOUT_MS = 10_000
const LOG_WAIT_MS = 5_000
/** User names and principals end up in file names and line-based files. */
const SAFE_NAME = /^[A-Za-z0-9._@-]+$/

export interface SshdOptions {
  /**
   * authorized_keys-format lines of the CA public keys sshd trusts for user certificates. Give
   * exactly one of this and {@link SshdOptions.trustedUserCaKeysFile}.
   */
  readonly trustedUserCaKeys?: readonly string[]
  /**
   * An existing `TrustedUserCAKeys` file used in place (an `ssh_host` output's
   * `ssh_host-user-ca.pub`), instead of writing {@link SshdOptions.trustedUserCaKeys}.
   */
  readonly trustedUserCaKeysFile?: string
  /**
   * An existing private key file used in place as the `HostKey` (an `ssh_host` output's
   * `ssh_host`; sshd refuses one that group or others can read). Default: a fresh Ed25519 key in
   * sshd's own directory.
   */
  readonly hostKeyFile?: string
  /** `HostCertificate`: an OpenSSH host certificate for the host key (`ssh_host-cert.pub`). */
  readonly hostCertificateFile?: string
  /**
   * Local unix user → certificate principals allowed to log in as that user
   * (`AuthorizedPrincipalsFile`). `{ root: ['alice'] }`: a certificate carrying principal `alice`
   * may log in as `root`. Users not listed cannot log in with any certificate.
   */
  readonly principalsFor: Readonly<Record<string, readonly string[]>>
}

export interface LoginAttempt {
  /** The local unix user to log in as. */
  readonly user: string
  /** Private key file (`-i`); see `writeKeyPair` in `ssh-keys.ts`. */
  readonly keyFile: string
  /** The `-cert.pub` file to offer (`-o CertificateFile=`). */
  readonly certFile: string
  /** Remote command; default `echo ok`. */
  readonly command?: string
  /**
   * Verify the server: `StrictHostKeyChecking yes` with this file as the only known_hosts (the
   * global one is switched off). Default: host keys are not checked, for tests about users.
   */
  readonly knownHostsFile?: string
  /**
   * The name ssh connects to, default `127.0.0.1`. It is what ssh looks up in known_hosts and
   * requires among a host certificate's principals, so host checks connect by name (`localhost`);
   * `AddressFamily inet` keeps ssh on 127.0.0.1 (never `::1`, where sshd does not listen).
   */
  readonly host?: string
  /** `HostKeyAlias`: look up and check this name instead of {@link LoginAttempt.host}. */
  readonly hostKeyAlias?: string
  /** `ssh -v`: stderr then shows how the host key was verified. */
  readonly verbose?: boolean
}

export interface LoginResult {
  /** The client exited 0: authentication succeeded and the command ran successfully. */
  readonly ok: boolean
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface Sshd {
  readonly host: typeof HOST
  readonly port: number
  /** Everything sshd has logged so far (its stderr). */
  log(): string
  /**
   * Resolves with the log from offset `from` (default 0) once that part matches `pattern`;
   * rejects with the log after `timeoutMs` (default 5 s). Take `from` as `log().length` before
   * an attempt to look only at what that attempt caused.
   */
  waitForLog(pattern: RegExp, options?: { from?: number; timeoutMs?: number }): Promise<string>
  /** Runs the real `ssh` client against this server (bounded by a timeout; never prompts). */
  tryLogin(attempt: LoginAttempt): Promise<LoginResult>
  /** Stops sshd and removes its directory. Safe to call twice. */
  stop(): Promise<void>
}

/** The user this process runs as: the only local user a test sshd can log in as. */
export function currentUser(): string {
  return userInfo().username
}

/** Starts sshd on a free port of 127.0.0.1 and waits until it accepts TCP connections. */
export async function startSshd(options: SshdOptions): Promise<Sshd> {
  const binaries = {
    sshd: findExecutable('sshd', 'openssh-server', ['/usr/sbin']),
    ssh: findExecutable('ssh', 'openssh-client'),
    sshKeygen: findExecutable('ssh-keygen', 'openssh-client'),
  }
  validate(options)
  ensurePrivsepDir()
  const penaltiesOption = (await supportsPerSourcePenalties(binaries.sshd)) ? ['PerSourcePenalties no'] : []
  // A port picked by freePort() can be taken by someone else before sshd binds it: retry then.
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'credbroker-sshd-')) // mkdtemp creates it 0700
    try {
      const port = await freePort()
      const config = await writeServerFiles(dir, port, options, binaries.sshKeygen, penaltiesOption)
      return await launch(binaries, dir, config)
    } catch (err) {
      rmSync(dir, { recursive: true, force: true })
      if (attempt >= 3 || !/Address already in use/.test(String((err as Error).message))) throw err
    }
  }
}

/** `ssh-keygen -L` of a certificate line: type, CA, key ID, serial, validity (in UTC), principals… */
export async function sshKeygenList(certLine: string): Promise<string> {
  const sshKeygen = findExecutable('ssh-keygen', 'openssh-client')
  const dir = mkdtempSync(join(tmpdir(), 'credbroker-ssh-keygen-'))
  try {
    const file = join(dir, 'cert.pub')
    writeFileSync(file, `${certLine.trim()}\n`)
    // ssh-keygen prints validity in local time; TZ=UTC makes it comparable with toISOString().
    const result = await run(sshKeygen, ['-L', '-f', file], { env: { ...process.env, TZ: 'UTC' } })
    if (result.code !== 0) throw new Error(`ssh-keygen -L failed (${result.code}): ${result.stderr}`)
    return result.stdout
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

interface ServerConfig {
  readonly file: string
  readonly port: number
}

interface Binaries {
  readonly sshd: string
  readonly ssh: string
  readonly sshKeygen: string
}

function validate(options: SshdOptions): void {
  const lines = options.trustedUserCaKeys
  if (options.trustedUserCaKeysFile !== undefined) {
    if (lines !== undefined) throw new TypeError('give trustedUserCaKeys or trustedUserCaKeysFile, not both')
  } else if (lines === undefined || lines.length === 0) {
    throw new TypeError('startSshd needs at least one CA key')
  }
  if (options.hostCertificateFile !== undefined && options.hostKeyFile === undefined)
    throw new TypeError('a hostCertificateFile needs the hostKeyFile it certifies')
  for (const line of lines ?? [])
    if (/[\r\n]/.test(line)) throw new TypeError('a CA key must be a single authorized_keys line')
  for (const [user, principals] of Object.entries(options.principalsFor))
    for (const name of [user, ...principals])
      if (!SAFE_NAME.test(name)) throw new TypeError(`unsafe user or principal name: ${JSON.stringify(name)}`)
}

function ensurePrivsepDir(): void {
  try {
    statSync(PRIVSEP_DIR)
  } catch {
    try {
      // sshd requires it to be owned by root and not group- or world-writable.
      mkdirSync(PRIVSEP_DIR, { recursive: true, mode: 0o755 })
    } catch (err) {
      throw new Error(`sshd needs ${PRIVSEP_DIR}, which is missing and could not be created: ${err}`)
    }
  }
}

/** PerSourcePenalties exists from OpenSSH 9.8; older versions reject the keyword. */
async function supportsPerSourcePenalties(sshd: string): Promise<boolean> {
  // `sshd -V` prints e.g. "OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 …" to stderr.
  const { stdout, stderr } = await run(sshd, ['-V'])
  const match = /OpenSSH_(\d+)\.(\d+)/.exec(stderr + stdout)
  if (!match) return false
  const [major, minor] = [Number(match[1]), Number(match[2])]
  return major > 9 || (major === 9 && minor >= 8)
}

/** Writes the host key, CA keys, principals files and sshd_config into `dir`. */
async function writeServerFiles(
  dir: string,
  port: number,
  options: SshdOptions,
  sshKeygen: string,
  extraLines: readonly string[],
): Promise<ServerConfig> {
  const hostKey = options.hostKeyFile ?? join(dir, 'ssh_host_ed25519_key')
  if (options.hostKeyFile === undefined) {
    const keygen = await run(sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey])
    if (keygen.code !== 0) throw new Error(`ssh-keygen could not create a host key: ${keygen.stderr}`)
  }

  let caFile = options.trustedUserCaKeysFile
  if (caFile === undefined) {
    caFile = join(dir, 'trusted_user_ca_keys')
    writeFileSync(caFile, `${(options.trustedUserCaKeys ?? []).map((l) => l.trim()).join('\n')}\n`)
  }
  const principalsDir = join(dir, 'principals')
  mkdirSync(principalsDir, { mode: 0o700 })
  for (const [user, principals] of Object.entries(options.principalsFor))
    writeFileSync(join(principalsDir, user), principals.map((p) => `${p}\n`).join(''))

  const lines = [
    `ListenAddress ${HOST}`,
    `Port ${port}`,
    `HostKey ${hostKey}`,
    ...(options.hostCertificateFile === undefined ? [] : [`HostCertificate ${options.hostCertificateFile}`]),
    `PidFile ${join(dir, 'sshd.pid')}`,
    `TrustedUserCAKeys ${caFile}`,
    `AuthorizedPrincipalsFile ${principalsDir}/%u`,
    'AuthorizedKeysFile none',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The only user a test sshd can switch to is the one it runs as: root in CI.
    `PermitRootLogin ${process.getuid?.() === 0 ? 'yes' : 'no'}`,
    // The temp dir is ours; sshd's ownership checks on it would only get in the way.
    'StrictModes no',
    'LogLevel VERBOSE',
    ...extraLines,
  ]
  const file = join(dir, 'sshd_config')
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 })
  return { file, port }
}

async function launch(binaries: Binaries, dir: string, config: ServerConfig): Promise<Sshd> {
  const child = spawn(binaries.sshd, ['-D', '-e', '-f', config.file], { stdio: ['ignore', 'ignore', 'pipe'] })
  const log = new PeerLog('sshd')
  child.stderr?.on('data', (chunk: Buffer) => log.append(chunk.toString('utf8')))
  const { exited, cleanUp, release } = supervise(child, 'sshd', dir)
  try {
    await waitUntilListening(config.port, exited, () => log.text)
  } catch (err) {
    await terminate(child, exited)
    release()
    throw err
  }

  let stopped: Promise<void> | undefined
  return {
    host: HOST,
    port: config.port,
    log: () => log.text,
    waitForLog: (pattern, opts = {}) => log.waitFor(pattern, opts.from ?? 0, opts.timeoutMs ?? LOG_WAIT_MS),
    tryLogin: (attempt) => tryLogin(binaries.ssh, config.port, attempt),
    stop() {
      stopped ??= terminate(child, exited).finally(cleanUp)
      return stopped
    },
  }
}

/** Client options: no config files, agent or prompts; only the given key and certificate. */
const CLIENT_OPTIONS = [
  'BatchMode=yes',
  'AddressFamily=inet',
  'IdentitiesOnly=yes',
  'IdentityAgent=none',
  'PreferredAuthentications=publickey',
  'ConnectTimeout=5',
]

/** Host key checking: none by default; strict against exactly one known_hosts file when given. */
function hostKeyOptions(attempt: LoginAttempt): string[] {
  const alias = attempt.hostKeyAlias === undefined ? [] : [`HostKeyAlias=${attempt.hostKeyAlias}`]
  if (attempt.knownHostsFile === undefined)
    return ['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', ...alias]
  return [
    'StrictHostKeyChecking=yes',
    `UserKnownHostsFile=${attempt.knownHostsFile}`,
    'GlobalKnownHostsFile=/dev/null',
    'UpdateHostKeys=no',
    ...alias,
  ]
}

async function tryLogin(ssh: string, port: number, attempt: LoginAttempt): Promise<LoginResult> {
  const options = [...CLIENT_OPTIONS, ...hostKeyOptions(attempt), `CertificateFile=${attempt.certFile}`]
  const args = [
    '-F',
    'none',
    '-n',
    ...(attempt.verbose ? ['-v'] : []),
    ...options.flatMap((o) => ['-o', o]),
    '-i',
    attempt.keyFile,
    '-p',
    String(port),
    '-l',
    attempt.user,
  ]
  const result = await run(ssh, [...args, attempt.host ?? HOST, attempt.command ?? 'echo ok'], {
    timeoutMs: LOGIN_TIMEOUT_MS,
  })
  return { ok: result.code === 0, ...result }
}

async function waitUntilListening(port: number, exited: Promise<string>, log: () => string): Promise<void> {
  let exitReason: string | undefined
  void exited.then((reason) => {
    exitReason = reason
  })
  const deadline = Date.now() + READY_DEADLINE_MS
  while (Date.now() < deadline) {
    if (exitReason !== undefined) throw new Error(`${exitReason} before it was listening. Log:\n${log()}`)
    if (await acceptsTcp(port)) return
    await delay(READY_POLL_MS)
  }
  throw new Error(`sshd on ${HOST}:${port} did not listen within ${READY_DEADLINE_MS} ms. Log:\n${log()}`)
}

function acceptsTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port })
    socket.setTimeout(1_000)
    const finish = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.once('connect', () => finish(true))
    socket.once('error', () => finish(false))
    socket.once('timeout', () => finish(false))
  })
}

/** Runs a tool without a shell (see run-program.ts), by default within {@link TOOL_TIMEOUT_MS}. */
function run(
  file: string,
  args: readonly string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
) {
  return runProgram(file, args, {
    timeoutMs: opts.timeoutMs ?? TOOL_TIMEOUT_MS,
    ...(opts.env && { env: opts.env }),
  })
}

/** Looks `command` up on PATH (and `extraDirs`); the error names the Debian package to install. */
function findExecutable(command: string, debianPackage: string, extraDirs: readonly string[] = []): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs, '/usr/bin']
  for (const dir of dirs) {
    if (!dir.startsWith('/')) continue // sshd must be started by absolute path
    const candidate = join(dir, command)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this directory
    }
  }
  throw new Error(
    `${command} was not found (looked in PATH and ${[...extraDirs, '/usr/bin'].join(', ')}). ` +
      `Install it with: apt-get install -y ${debianPackage}`,
  )
}
