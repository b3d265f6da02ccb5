/**
 * Shared plumbing for the real peers tests start (moto, sshd): free loopback ports, supervision
 * of the child process, and orderly termination. Only ever binds 127.0.0.1.
 */
import type { ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { createServer } from 'node:net'

const HOST = '127.0.0.1'
const STOP_DEADLINE_MS = 5000

/** A TCP port on 127.0.0.1 that was free a moment ago (listen on port 0, close, reuse it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const address = server.address()
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port)
        else reject(new Error('could not determine a free port'))
      })
    })
  })
}

export interface Supervised {
  /** Resolves, with a description, when the child exits or cannot start. */
  readonly exited: Promise<string>
  /** Removes the exit hook and the child's working directory. */
  readonly cleanUp: () => void
  /** Removes the exit hook only (the directory is reused, e.g. to retry on another port). */
  readonly release: () => void
}

/**
 * Watches a started peer: `exited` describes how it ended, and the peer is killed if the test
 * process ends without stopping it, so no orphaned server outlives the tests.
 */
export function supervise(child: ChildProcess, name: string, dir: string): Supervised {
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(`${name} exited (code ${code}, signal ${signal})`))
    child.once('error', (err) => resolve(`${name} could not start: ${err.message}`))
  })
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  const release = () => {
    process.removeListener('exit', killOnExit)
  }
  return {
    exited,
    release,
    cleanUp: () => {
      release()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** SIGTERM, then SIGKILL after a deadline; resolves when the child has exited. */
export async function terminate(child: ChildProcess, exited: Promise<string>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS)
  try {
    await exited
  } finally {
    clearTimeout(timer)
  }
}
