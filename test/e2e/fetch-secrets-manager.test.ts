/**
 * `credbroker fetch` and `fetchCredential` against moto (auth off): a real auth service issues an
 * identity output that a bot cycle writes through SecretsManagerDestination; the consumer reads it
 * back, writes files 0600 that `openssl verify` and `ssh-keygen -L` accept, refuses an expired
 * credential and never follows a symlink planted at an output file.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { MemoryKeyStore } from '../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../lib/adapters/memory/store.ts'
import {
  createSecretsManagerClient,
  type SecretsManagerApi,
} from '../../lib/adapters/secrets-manager/client.ts'
import { SecretsManagerDestination } from '../../lib/adapters/secrets-manager/destination.ts'
import { addJoinToken } from '../../lib/auth/bots.ts'
import { createAuthService } from '../../lib/auth/service.ts'
import { AuthClient } from '../../lib/bot/auth-client.ts'
import { runCycle } from '../../lib/bot/bot.ts'
import { validateBotConfig } from '../../lib/bot/config.ts'
import { openBotDestinations } from '../../lib/bot/destinations.ts'
import { loadDocuments } from '../../lib/cli/load-documents.ts'
import { main } from '../../lib/cli/main.ts'
import { ManualClock, systemClock } from '../../lib/clock.ts'
import { fetchCredential } from '../../lib/consumer/fetch.ts'
import { isBrokerError } from '../../lib/errors.ts'
import { silentLogger } from '../../lib/log.ts'
import { cryptoRandom } from '../../lib/random.ts'
import { applyResources } from '../../lib/services/apply.ts'
import { type MotoServer, startMoto } from '../helpers/moto.ts'
import { opensslVerify } from '../helpers/openssl.ts'
import { sshKeygenList } from '../helpers/sshd.ts'

const SECRET = `credbroker-fetch-${randomBytes(4).toString('hex')}/ssh`
const ARTIFACTS = [
  'key',
  'key.pub',
  'key-cert.pub',
  'tlscert',
  'credbroker-user-ca.crt',
  'credbroker-host-ca.crt',
  'credbroker-database-ca.crt',
  'known_hosts',
]

let moto: MotoServer
let client: SecretsManagerApi
let dir: string

async function cli(args: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await main(args, {
    env: {
      AWS_REGION: moto.region,
      AWS_ACCESS_KEY_ID: moto.adminCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: moto.adminCredentials.secretAccessKey,
      CREDBROKER_SECRETS_MANAGER_ENDPOINT: moto.endpoint,
      CREDBROKER_LOG_LEVEL: 'error',
    },
    cwd: dir,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
  })
  return { code, stdout: out.join('\n'), stderr: err.join('\n') }
}

let authService: Awaited<ReturnType<typeof createAuthService>>

before(async () => {
  moto = await startMoto()
  client = createSecretsManagerClient({
    region: moto.region,
    endpoint: moto.endpoint,
    credentials: moto.adminCredentials,
  })
  dir = mkdtempSync(join(tmpdir(), 'credbroker-fetch-'))
  const service = await createAuthService({
    clusterName: 'e2e.local',
    publicAddr: 'http://127.0.0.1',
    store: new MemoryStore(),
    keys: new MemoryKeyStore(),
    clock: systemClock,
    random: cryptoRandom,
    log: silentLogger,
  })
  authService = service
  await applyResources(service.deps.resources, loadDocuments(resolve('examples/cluster')))
  const { token } = await addJoinToken(service.deps, 'example')
  const { config } = validateBotConfig(
    {
      version: 'v1',
      auth_server: 'http://127.0.0.1:1',
      onboarding: { join_method: 'token', token },
      storage: { type: 'memory' },
      outputs: [{ type: 'identity', name: 'ssh', roles: ['access'], destination: { type: 'memory' } }],
    },
    { baseDir: dir },
  )
  const { storage } = openBotDestinations(config, systemClock)
  const destination = new SecretsManagerDestination({
    name: SECRET,
    client,
    tags: { bot: 'example', output: 'ssh' },
  })
  const auth = new AuthClient({
    baseUrl: config.authServer,
    fetch: async (url: string, init?: RequestInit) => service.app.request(url, init),
  })
  const cycle = await runCycle({
    config,
    client: auth,
    storage,
    destinations: new Map([['ssh', destination]]),
    clock: systemClock,
    log: silentLogger,
  })
  assert.equal(cycle.outputs[0]?.ok, true, JSON.stringify(cycle.outputs))
})

after(async () => {
  client?.destroy()
  await moto?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('e2e: consuming a credential from Secrets Manager', () => {
  it('fetchCredential returns every identity artifact and the tlscert expiry', async () => {
    const cred = await fetchCredential({
      secretId: SECRET,
      clientConfig: { region: moto.region, endpoint: moto.endpoint, credentials: moto.adminCredentials },
    })
    for (const name of ARTIFACTS) assert.ok(cred.artifacts.get(name)?.length, name)
    assert.ok(cred.notAfter && cred.notAfter.getTime() > Date.now())
    assert.ok(cred.versionId)
  })

  it('refuses the credential once the clock is past its expiry', async () => {
    const first = await fetchCredential({ secretId: SECRET, client })
    const clock = new ManualClock((first.notAfter as Date).getTime())
    await assert.rejects(
      fetchCredential({ secretId: SECRET, client, clock }),
      (err) => isBrokerError(err) && err.code === 'ERR_NOT_FOUND' && /expired at/.test(err.message),
    )
  })

  it('credbroker fetch --out writes 0600 files that openssl and ssh-keygen accept', async () => {
    const res = await cli(['fetch', '--secret', SECRET, '--out', 'out'])
    assert.equal(res.code, 0, res.stderr)
    const out = join(dir, 'out')
    assert.equal(statSync(out).mode & 0o777, 0o700)
    for (const name of ARTIFACTS) {
      const st = lstatSync(join(out, name))
      assert.ok(st.isFile(), name)
      assert.equal(st.mode & 0o777, 0o600, name)
    }
    const verified = await opensslVerify({
      caPems: [readFileSync(join(out, 'credbroker-user-ca.crt'), 'utf8')],
      leafPem: readFileSync(join(out, 'tlscert'), 'utf8'),
      purpose: 'sslclient',
    })
    assert.equal(verified.ok, true, verified.output)
    const listing = await sshKeygenList(readFileSync(join(out, 'key-cert.pub'), 'utf8'))
    assert.match(listing, /Key ID: "bot-example"/)
  })

  it('replaces a symlink planted at an output file instead of following it', async () => {
    const out = join(dir, 'planted')
    mkdirSync(out, { mode: 0o700 })
    const victim = join(dir, 'victim')
    writeFileSync(victim, 'untouched')
    symlinkSync(victim, join(out, 'key'))
    const res = await cli(['fetch', '--secret', SECRET, '--out', 'planted'])
    assert.equal(res.code, 0, res.stderr)
    assert.equal(readFileSync(victim, 'utf8'), 'untouched')
    const st = lstatSync(join(out, 'key'))
    assert.ok(st.isFile() && !st.isSymbolicLink())
    assert.equal(st.mode & 0o777, 0o600)
  })

  it('refuses an output directory that is a symlink', async () => {
    const real = join(dir, 'real')
    mkdirSync(real)
    symlinkSync(real, join(dir, 'linked'))
    const res = await cli(['fetch', '--secret', SECRET, '--out', 'linked'])
    assert.equal(res.code, 1)
    assert.match(res.stderr, /ERR_BAD_REQUEST.*symlink/)
  })

  it('--artifact prints one artifact and --json prints all with metadata', async () => {
    const one = await cli(['fetch', '--secret', SECRET, '--artifact', 'tlscert'])
    assert.equal(one.code, 0, one.stderr)
    assert.match(one.stdout, /^-----BEGIN CERTIFICATE-----/)
    const all = await cli(['fetch', '--secret', SECRET, '--json'])
    assert.equal(all.code, 0, all.stderr)
    const doc = JSON.parse(all.stdout) as {
      artifacts: Record<string, { encoding: string }>
      not_after: string
    }
    for (const name of ARTIFACTS) assert.equal(doc.artifacts[name]?.encoding, 'utf8')
    assert.ok(Date.parse(doc.not_after) > Date.now())
  })

  it('the CLI refuses an expired credential (metadata.not_after) and a missing secret', async () => {
    const expired = `${SECRET}-expired`
    const destination = new SecretsManagerDestination({
      name: expired,
      client,
      tags: { bot: 'example', output: 'old' },
      metadata: { not_after: '2020-01-01T00:00:00.000Z' },
    })
    await destination.write(new Map([['key', 'k']]))
    const res = await cli(['fetch', '--secret', expired, '--json'])
    assert.equal(res.code, 1)
    assert.match(
      res.stderr,
      /error \[ERR_NOT_FOUND\]: the credential in secret .* expired at 2020-01-01T00:00:00\.000Z/,
    )
    const missing = await cli(['fetch', '--secret', `${SECRET}-nope`, '--json'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /ERR_NOT_FOUND.*does not exist/)
  })

  it('needs --secret and exactly one output mode: usage errors, exit 2', async () => {
    assert.equal((await cli(['fetch', '--json'])).code, 2)
    assert.equal((await cli(['fetch', '--secret', SECRET])).code, 2)
    assert.equal((await cli(['fetch', '--secret', SECRET, '--json', '--out', 'x'])).code, 2)
  })
})

describe('e2e: a token-joined bot keeps its own identity in Secrets Manager', () => {
  it('joins, stores its identity in its storage secret, and renews from it on the next cycle', async () => {
    const { token } = await addJoinToken(authService.deps, 'example')
    const storageName = `credbroker-storage-${randomBytes(4).toString('hex')}`
    const { config } = validateBotConfig(
      {
        version: 'v1',
        auth_server: 'http://127.0.0.1:1',
        onboarding: { join_method: 'token', token },
        storage: { type: 'aws_secrets_manager', name: storageName },
        outputs: [{ type: 'identity', name: 'ssh', roles: ['access'], destination: { type: 'memory' } }],
      },
      { baseDir: dir },
    )
    const storage = new SecretsManagerDestination({
      name: storageName,
      client,
      tags: { bot: 'example', output: 'bot-storage' },
    })
    const { destinations } = openBotDestinations(config, systemClock, { defaultRegion: moto.region })
    const auth = new AuthClient({
      baseUrl: config.authServer,
      fetch: async (url: string, init?: RequestInit) => authService.app.request(url, init),
    })
    const deps = { config, client: auth, storage, destinations, clock: systemClock, log: silentLogger }
    const first = await runCycle(deps)
    assert.equal(first.identity.generation, 1)
    const stored = await fetchCredential({ secretId: storageName, client })
    assert.deepEqual([...stored.artifacts.keys()].sort(), ['key', 'key-cert.pub', 'state.json', 'tlscert'])
    // A new process with the same storage secret renews the same instance.
    const second = await runCycle({
      ...deps,
      storage: new SecretsManagerDestination({
        name: storageName,
        client,
        tags: { bot: 'example', output: 'bot-storage' },
      }),
    })
    assert.equal(second.identity.generation, 2)
    assert.equal(second.identity.botInstanceId, first.identity.botInstanceId)
  })

  it('records the output metadata next to the artifacts', async () => {
    const cred = await fetchCredential({ secretId: SECRET, client })
    assert.equal(cred.metadata.output, 'ssh')
    assert.equal(cred.metadata.output_type, 'identity')
    assert.deepEqual(cred.metadata.roles, ['access'])
    assert.deepEqual(cred.metadata.principals, ['alice', 'credbroker'])
    assert.match(String(cred.metadata.serial), /^[0-9a-f]{32}$/)
    assert.equal((cred.metadata.ca_fingerprints as string[]).length, 1)
  })
})
