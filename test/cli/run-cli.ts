/**
 * Runs the `credbroker` executable (bin/credbroker.ts through tsx, as `npm run credbroker` does)
 * as a child process, with only the environment given (plus PATH and an empty HOME), so settings
 * from the test runner's environment never leak in.
 */
import { spawn } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { type RunResult, runProgram } from '../helpers/run-program.ts'

export const CLI = resolve('bin/credbroker.ts')
/** Absolute, so the child finds tsx whatever its working directory. */
const TSX = import.meta.resolve('tsx')
const TIMEOUT_MS = 60_000
/** A home without `~/.credbroker/identity`, so a developer's own login never changes a result. */
const BASE_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(tmpdir(), 'credbroker-cli-no-home') }

export interface CliOptions {
  readonly env?: Record<string, string>
  readonly cwd?: string
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<RunResult> {
  return runProgram(process.execPath, ['--import', TSX, CLI, ...args], {
    timeoutMs: TIMEOUT_MS,
    env: { ...BASE_ENV, ...options.env },
    ...(options.cwd !== undefined && { cwd: options.cwd }),
  })
}

/** Runs a command that must succeed; returns its stdout. */
export async function cliOk(args: readonly string[], options: CliOptions = {}): Promise<string> {
  const res = await runCli(args, options)
  if (res.code !== 0) {
    throw new Error(`credbroker ${args.join(' ')} exited ${res.code}:\n${res.stderr}\n${res.stdout}`)
  }
  return res.stdout
}

/** Runs a command with `--format json` that must succeed; returns the parsed output. */
export async function cliJson<T = unknown>(args: readonly string[], options: CliOptions = {}): Promise<T> {
  return JSON.parse(await cliOk([...args, '--format', 'json'], options)) as T
}

/** Runs `items` through `fn`, at most `limit` at a time (the machine has two cores). */
export async function inBatches<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/**
 * Starts `credbroker auth start` in the background and resolves once it prints its address.
 * `stop()` sends SIGTERM to that process (and only it) and waits for it to exit.
 */
export function startAuth(options: Required<CliOptions> & { args?: readonly string[] }) {
  const child = spawn(process.execPath, ['--import', TSX, CLI, 'auth', 'start', ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { ...BASE_ENV, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8')
  })
  const ready = new Promise<string>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`auth start did not come up:\n${stderr}`)), TIMEOUT_MS)
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8')
      if (stdout.includes('\n')) {
        clearTimeout(timer)
        resolveReady(stdout)
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`auth start exited ${code}:\n${stderr}`))
    })
  })
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  return {
    ready,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}
