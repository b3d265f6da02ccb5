/**
 * Plumbing for the renewal tests that run bots as real processes (`renew-bot-runner.ts`): an
 * auth service served on 127.0.0.1 by the test process, which can SIGKILL a bot right after
 * committing its renewal and before answering; and a way to start bot processes cheaply.
 *
 * Start-up cost: `node --import tsx` compiles the runner's imports in every child (0.6–0.9 s
 * each on a 2-core machine), which is most of a 200-crash test's time. {@link prepareRunner}
 * bundles the runner once with esbuild (a dev dependency) into one plain `.mjs` that a child
 * starts in ~0.15 s, and falls back to tsx if esbuild cannot be loaded.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { serve } from '@hono/node-server'
import { MemoryKeyStore } from '../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../lib/adapters/memory/store.ts'
import { type AuthService, createAuthService } from '../../lib/auth/service.ts'
import { loadDocuments } from '../../lib/cli/load-documents.ts'
import { ManualClock } from '../../lib/clock.ts'
import { silentLogger } from '../../lib/log.ts'
import { cryptoRandom } from '../../lib/random.ts'
import { applyResources } from '../../lib/services/apply.ts'
import type { RunnerArgs, RunnerMessage } from './renew-protocol.ts'

const RUNNER = resolve(import.meta.dirname, 'renew-bot-runner.ts')

export interface Runner {
  /** The command line that starts a runner, minus its JSON argument. */
  readonly argv: readonly string[]
  readonly how: 'esbuild bundle' | 'tsx'
  readonly cleanUp: () => void
}

/** Bundles the runner (see the module comment). */
export async function prepareRunner(): Promise<Runner> {
  const dir = mkdtempSync(join(tmpdir(), 'credbroker-renew-runner-'))
  const cleanUp = () => rmSync(dir, { recursive: true, force: true })
  try {
    const { build } = await import('esbuild')
    const outfile = join(dir, 'runner.mjs')
    await build({
      entryPoints: [RUNNER],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'error',
      minify: true,
      // ESM bundles of CommonJS dependencies need `require` in scope.
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    })
    return { argv: [outfile], how: 'esbuild bundle', cleanUp }
  } catch {
    return { argv: ['--import', 'tsx', RUNNER], how: 'tsx', cleanUp }
  }
}

export interface RenewServer {
  readonly service: AuthService
  readonly clock: ManualClock
  readonly url: string
  /**
   * The first successful `POST /v1/renew` carrying `requestId` kills `bot` after the server
   * committed it and before the answer is sent.
   */
  killAfterRenewal(requestId: string, bot: Bot): void
  close(): Promise<void>
}

/** An auth service with the example cluster, on a free 127.0.0.1 port, its clock frozen. */
export async function startRenewServer(): Promise<RenewServer> {
  const clock = new ManualClock(Date.UTC(2026, 10, 22, 12))
  const service = await createAuthService({
    clusterName: 'renew.test',
    publicAddr: 'http://127.0.0.1',
    store: new MemoryStore({ clock }),
    keys: new MemoryKeyStore(),
    clock,
    random: cryptoRandom,
    log: silentLogger,
  })
  await applyResources(service.deps.resources, loadDocuments(resolve('examples/cluster')))
  const victims = new Map<string, Bot>()
  const fetch = async (request: Request): Promise<Response> => {
    const isRenewal = request.method === 'POST' && new URL(request.url).pathname === '/v1/renew'
    const requestId = isRenewal
      ? (
          (await request
            .clone()
            .json()
            .catch(() => ({}))) as { request_id?: string }
        ).request_id
      : undefined
    const response = await service.app.fetch(request)
    const bot = requestId === undefined ? undefined : victims.get(requestId)
    if (bot && response.status === 200) {
      victims.delete(requestId as string)
      bot.child.kill('SIGKILL')
      await bot.exited // the answer goes to a dead socket
    }
    return response
  }
  const server = serve({ fetch, hostname: '127.0.0.1', port: 0 })
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    service,
    clock,
    url: `http://127.0.0.1:${port}`,
    killAfterRenewal: (requestId, bot) => {
      victims.set(requestId, bot)
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  }
}

export interface Bot {
  readonly child: ChildProcess
  readonly messages: RunnerMessage[]
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Starts a bot process; `server` honours its `arm` message (crash point `server-committed`). */
export function startBot(runner: Runner, server: RenewServer, args: RunnerArgs): Bot {
  const child = spawn(process.execPath, [...runner.argv, JSON.stringify(args)], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  })
  const messages: RunnerMessage[] = []
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done, fail) => {
    child.once('error', fail)
    // 'close', not 'exit': it comes after the IPC channel has delivered the last message.
    child.once('close', (code, signal) => {
      if (code !== 0 && signal === null && stderr !== '') process.stderr.write(stderr)
      done({ code, signal })
    })
  })
  const bot: Bot = { child, messages, exited }
  child.on('message', (message: RunnerMessage) => {
    messages.push(message)
    if (message.type === 'arm') {
      server.killAfterRenewal(message.requestId, bot)
      child.send('armed')
    }
  })
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  void exited.finally(() => process.removeListener('exit', killOnExit))
  return bot
}

/** Runs a bot to its end. */
export async function runBot(runner: Runner, server: RenewServer, args: RunnerArgs) {
  const bot = startBot(runner, server, args)
  const exit = await bot.exited
  return { ...exit, messages: bot.messages }
}
