/**
 * A moto server for tests: one local process per test file, on 127.0.0.1 only, with an optional
 * switch to real SigV4 signature checking and IAM policy evaluation.
 *
 * moto facts this relies on (`/work/shared/reference/stack-notes.md` §12):
 * - readiness is `GET /moto-api/data.json` answering 200, usually within 0.5 s;
 * - all state is in memory and dies with the process;
 * - `INITIAL_NO_AUTH_ACTION_COUNT` is the number of requests served *without* checking signatures
 *   (default `inf`, i.e. auth off), and `POST /moto-api/reset-auth` with body N sets it at run time
 *   and resets the request counter. The body must be sent as `text/plain`, otherwise moto reads an
 *   empty body and answers 500.
 *
 * @example
 * ```ts
 * const moto = await startMoto({ auth: true })
 * const keys = await moto.createIamUser('app', { Version: '2012-10-17', Statement: [...] })
 * await moto.enableAuth() // from here on every request is signature-checked and IAM-authorised
 * const client = new DynamoDBClient({ endpoint: moto.endpoint, region: moto.region, credentials: keys })
 * // ...
 * await moto.stop()
 * ```
 */
import { spawn } from 'node:child_process'
import { accessSync, constants, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { freePort, supervise, terminate } from './peer-process.ts'

export { freePort }

import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam'

const HOST = '127.0.0.1'
const REGION = 'us-east-1'
/** moto's default account: ARNs in policies must use it. */
export const MOTO_ACCOUNT_ID = '123456789012'
/** Any credentials work while auth is off; moto identifies the caller by the access key only. */
const ADMIN_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' }
const READY_POLL_MS = 100
const READY_DEADLINE_MS = 30_000
/** Keep only the tail of moto's output: it logs every request. */
const MAX_OUTPUT_CHARS = 16_000

export interface MotoOptions {
  /**
   * Whether the test will turn on signature checking with {@link MotoServer.enableAuth}. The
   * server always starts with auth off so IAM users can be set up first; without this flag
   * `enableAuth()` refuses, so a test never depends on auth it did not ask for.
   */
  auth?: boolean
}

export interface AccessKey {
  accessKeyId: string
  secretAccessKey: string
}

export interface MotoServer {
  /** `http://127.0.0.1:PORT`, for the SDK clients' `endpoint`. */
  readonly endpoint: string
  readonly region: string
  /** Credentials that work while auth is off (and only then). */
  readonly adminCredentials: AccessKey
  /**
   * Creates an IAM user with one inline policy and an access key. Call it before
   * {@link enableAuth}: it signs with {@link adminCredentials}.
   */
  createIamUser(name: string, policyDocument: string | object): Promise<AccessKey>
  /** Turns signature checking and IAM authorisation on for every later request. */
  enableAuth(): Promise<void>
  /** Turns auth off again (e.g. for admin set-up in the middle of a file). */
  disableAuth(): Promise<void>
  /** Sends SIGTERM and waits for the process to exit. Safe to call twice. */
  stop(): Promise<void>
}

/** Starts `moto_server` on a free port of 127.0.0.1 and waits until it answers. */
export async function startMoto(options: MotoOptions = {}): Promise<MotoServer> {
  const executable = findOnPath('moto_server')
  // A port picked by freePort() can be taken by someone else before moto binds it: retry then.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    try {
      return await launch(executable, port, options)
    } catch (err) {
      if (attempt >= 3 || !String((err as Error).message).includes('Address already in use')) throw err
    }
  }
}

async function launch(executable: string, port: number, options: MotoOptions): Promise<MotoServer> {
  // moto may write files relative to its working directory; keep them out of the repository.
  const cwd = mkdtempSync(join(tmpdir(), 'credbroker-moto-'))
  const child = spawn(executable, ['-H', HOST, '-p', String(port)], {
    cwd,
    // Always start with auth off, whatever the developer's shell says.
    env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: 'inf' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const capture = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-MAX_OUTPUT_CHARS)
  }
  child.stdout?.on('data', capture)
  child.stderr?.on('data', capture)
  const { exited, cleanUp } = supervise(child, 'moto_server', cwd)

  const endpoint = `http://${HOST}:${port}`
  try {
    await waitUntilReady(endpoint, exited, () => output)
  } catch (err) {
    await terminate(child, exited)
    cleanUp()
    throw err
  }

  let stopped: Promise<void> | undefined
  const setAuth = async (count: '0' | 'inf') => {
    const res = await fetch(`${endpoint}/moto-api/reset-auth`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: count,
    })
    if (res.status !== 200) throw new Error(`moto reset-auth ${count} answered HTTP ${res.status}`)
    await res.arrayBuffer()
  }

  return {
    endpoint,
    region: REGION,
    adminCredentials: { ...ADMIN_CREDENTIALS },
    createIamUser: (name, policyDocument) => createIamUser(endpoint, name, policyDocument),
    async enableAuth() {
      if (!options.auth) throw new TypeError('start moto with startMoto({ auth: true }) to use enableAuth()')
      await setAuth('0')
    },
    disableAuth: () => setAuth('inf'),
    stop() {
      stopped ??= terminate(child, exited).finally(cleanUp)
      return stopped
    },
  }
}

async function waitUntilReady(
  endpoint: string,
  exited: Promise<string>,
  output: () => string,
): Promise<void> {
  let exitReason: string | undefined
  void exited.then((reason) => {
    exitReason = reason
  })
  const deadline = Date.now() + READY_DEADLINE_MS
  let lastProblem = 'no answer yet'
  while (Date.now() < deadline) {
    if (exitReason !== undefined) throw new Error(`${exitReason} before it was ready. Output:\n${output()}`)
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2_000) })
      await res.arrayBuffer()
      if (res.status === 200) return
      lastProblem = `HTTP ${res.status}`
    } catch (err) {
      lastProblem = (err as Error).message
    }
    await delay(READY_POLL_MS)
  }
  throw new Error(
    `moto_server at ${endpoint} was not ready within ${READY_DEADLINE_MS} ms (${lastProblem}). Output:\n${output()}`,
  )
}

async function createIamUser(endpoint: string, name: string, policyDocument: string | object) {
  const iam = new IAMClient({ endpoint, region: REGION, credentials: ADMIN_CREDENTIALS })
  try {
    await iam.send(new CreateUserCommand({ UserName: name }))
    await iam.send(
      new PutUserPolicyCommand({
        UserName: name,
        PolicyName: `${name}-policy`,
        PolicyDocument: typeof policyDocument === 'string' ? policyDocument : JSON.stringify(policyDocument),
      }),
    )
    const { AccessKey: key } = await iam.send(new CreateAccessKeyCommand({ UserName: name }))
    if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error('moto CreateAccessKey returned no key')
    return { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey }
  } finally {
    iam.destroy()
  }
}

function findOnPath(command: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, command)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this directory
    }
  }
  throw new Error(
    `${command} was not found on PATH. Install moto's server with: pip install 'moto[server]' (moto >= 5.2)`,
  )
}
