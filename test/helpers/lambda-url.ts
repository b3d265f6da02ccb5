/**
 * Starts a handler module behind a local Function URL stand-in (test/helpers/lambda-url-host.ts)
 * in a process of its own, with exactly the environment given (plus PATH), as a deployed
 * function gets only its configured variables and its role's credentials.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort, supervise, terminate } from './peer-process.ts'

const REPO_ROOT = resolve(import.meta.dirname, '../..')
const READY_DEADLINE_MS = 60_000
const MAX_OUTPUT_CHARS = 32_000

export interface LambdaUrl {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** The tail of what the function logged (stdout and stderr). */
  output(): string
  stop(): Promise<void>
}

export async function startLambdaUrl(options: {
  module: string
  /** The function's environment; a function of the URL when it must name itself. */
  env: Readonly<Record<string, string>> | ((url: string) => Readonly<Record<string, string>>)
}): Promise<LambdaUrl> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const env = typeof options.env === 'function' ? options.env(url) : options.env
  const cwd = mkdtempSync(join(tmpdir(), 'credbroker-lambda-'))
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO_ROOT, 'test/helpers/lambda-url-host.ts'),
      resolve(REPO_ROOT, options.module),
      String(port),
    ],
    {
      // The code root, as a Lambda function's working directory is its package's root.
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const { exited, cleanUp } = supervise(child, `function ${options.module}`, cwd)
  let output = ''
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-MAX_OUTPUT_CHARS)
  }
  child.stderr?.on('data', append)
  const ready = new Promise<void>((resolveReady) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      append(chunk)
      if (output.includes(`ready ${port}`)) resolveReady()
    })
  })
  let timer: NodeJS.Timeout | undefined
  const outcome = await Promise.race([
    ready.then(() => 'ready'),
    exited,
    new Promise<string>((r) => {
      timer = setTimeout(() => r('not ready in time'), READY_DEADLINE_MS)
    }),
  ])
  clearTimeout(timer)
  const stop = async () => {
    await terminate(child, exited)
    cleanUp()
  }
  if (outcome !== 'ready') {
    await stop()
    throw new Error(`${options.module} did not start: ${outcome}\n${output}`)
  }
  return { url, output: () => output, stop }
}
