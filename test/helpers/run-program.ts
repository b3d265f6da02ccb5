/**
 * Running a real tool (openssl, ssh-keygen, ssh, psql, initdb) from a test: no shell, output
 * collected, and killed after a deadline so a hung tool fails its test with a message instead of
 * hanging the run.
 */
import { spawn } from 'node:child_process'

export interface RunResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  readonly timeoutMs: number
  /** Default: this process's environment. */
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
}

/** Runs `file` with `args`; a kill at the deadline is reported at the end of stderr. */
export function runProgram(file: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      ...(opts.cwd !== undefined && { cwd: opts.cwd }),
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8')
    })
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8')
    })
    const timer = setTimeout(() => {
      stderr += `\n[${file} killed after ${opts.timeoutMs} ms]`
      child.kill('SIGKILL')
    }, opts.timeoutMs)
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}
