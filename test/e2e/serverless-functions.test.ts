/**
 * The deployed shape, end to end on moto with SigV4 checking and IAM authorisation on:
 *
 * - `functions/auth` runs in a process of its own behind a local Function URL stand-in, with only
 *   its configured environment and the credentials of its own role, which may use the state
 *   table and sign with the CA keys in KMS — nothing else (no Secrets Manager);
 * - `functions/rotate` is imported here with the environment Lambda would give it (the rotate
 *   role's credentials, which may write only secrets under `credbroker/test/example/`) and is
 *   invoked with an EventBridge scheduled event: IAM join → impersonation per output → one secret
 *   per output;
 * - a consumer whose only permission is `secretsmanager:GetSecretValue` runs `credbroker fetch`,
 *   and `openssl verify` and `ssh-keygen -L` accept what it wrote.
 *
 * Policy resources are "*" here: moto 5.2 authorises DynamoDB, KMS and Secrets Manager requests
 * against the resource "*" only, so an ARN-scoped statement would deny everything (see
 * test/adapters/dynamodb-store.test.ts). The actions are exactly the deployed ones, which is what
 * moto can check; the ARN scoping is checked where the infrastructure is (test/unit/infra).
 *
 * Then the failure cases: an output that fails does not stop the others and fails the
 * invocation; a throttled or crashed write between outputs leaves every secret at its previous
 * version or a complete new one, and the next run converges with no duplicate version.
 */
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms'
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
} from '@aws-sdk/client-secrets-manager'
import { createDynamoDbClient } from '../../lib/adapters/dynamodb/client.ts'
import { createStoreTable, DYNAMODB_STORE_IAM_ACTIONS } from '../../lib/adapters/dynamodb/table.ts'
import {
  createSecretsManagerClient,
  type SecretsManagerApi,
} from '../../lib/adapters/secrets-manager/client.ts'
import { SecretsManagerDestination } from '../../lib/adapters/secrets-manager/destination.ts'
import { SECRETS_MANAGER_DESTINATION_IAM_ACTIONS } from '../../lib/adapters/secrets-manager/options.ts'
import type { RetryDeps } from '../../lib/bot/retry.ts'
import { main } from '../../lib/cli/main.ts'
import { systemClock } from '../../lib/clock.ts'
import { silentLogger } from '../../lib/log.ts'
import type { Destination } from '../../lib/ports/destination.ts'
import { loadRotateLambdaConfig } from '../../lib/serverless/rotate-config.ts'
import {
  createRotateHandler,
  RotateFailedError,
  type RotateOutcome,
} from '../../lib/serverless/rotate-lambda.ts'
import { assumeRole, createRole, type RoleCredentials } from '../helpers/iam-roles.ts'
import { type LambdaUrl, startLambdaUrl } from '../helpers/lambda-url.ts'
import { type AccessKey, MOTO_ACCOUNT_ID, type MotoServer, startMoto } from '../helpers/moto.ts'
import { opensslVerify } from '../helpers/openssl.ts'
import { sshKeygenList } from '../helpers/sshd.ts'

const REGION = 'us-east-1'
const TABLE = 'credbroker-test-state'
const PREFIX = 'credbroker/test/example/'
const AUTH_ROLE = 'credbroker-test-auth'
const ROTATE_ROLE = 'credbroker-test-rotate'
const ROTATE_FUNCTION = 'credbroker-test-rotate-fn'
const CA_KEY_LABELS = ['user-tls', 'user-ssh', 'host-tls', 'host-ssh', 'db-tls', 'jwt-jwt']

/** An EventBridge scheduled event, as the schedule delivers it. */
const SCHEDULED_EVENT = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: MOTO_ACCOUNT_ID,
  time: '2026-11-22T12:00:00Z',
  region: REGION,
  resources: [`arn:aws:events:${REGION}:${MOTO_ACCOUNT_ID}:rule/credbroker-test-rotate`],
  detail: {},
}

const BOOTSTRAP = `
kind: role
version: v1
metadata:
  name: access
spec:
  allow:
    logins: [credbroker, alice]
    node_labels:
      "*": "*"
---
kind: bot
version: v1
metadata:
  name: example
spec:
  roles: [access]
---
kind: token
version: v1
metadata:
  name: rotate-bot
spec:
  join_method: iam
  bot_name: example
  allow:
    - aws_account: "${MOTO_ACCOUNT_ID}"
      aws_arn: "arn:aws:sts::${MOTO_ACCOUNT_ID}:assumed-role/${ROTATE_ROLE}/${ROTATE_FUNCTION}"
`

function botConfig(outputs: ReadonlyArray<{ name: string; roles: string[] }>): string {
  return [
    'version: v1',
    'auth_server: https://replaced-by-the-environment.invalid',
    'onboarding:',
    '  join_method: iam',
    '  token: rotate-bot',
    'storage:',
    '  type: memory',
    'credential_ttl: 1h',
    'renewal_interval: 20m',
    'outputs:',
    ...outputs.flatMap((o) => [
      '  - type: identity',
      `    name: ${o.name}`,
      `    roles: [${o.roles.join(', ')}]`,
      '    destination:',
      '      type: aws_secrets_manager',
      `      name: ${PREFIX}${o.name}`,
    ]),
  ].join('\n')
}

let moto: MotoServer
let dir: string
let auth: LambdaUrl
let rotateEnv: Record<string, string>
let consumerKeys: AccessKey
let authCreds: RoleCredentials
let admin: SecretsManagerApi

before(async () => {
  moto = await startMoto({ auth: true })
  dir = mkdtempSync(join(tmpdir(), 'credbroker-serverless-'))
  const adminConfig = { region: REGION, endpoint: moto.endpoint, credentials: moto.adminCredentials }

  // Infrastructure, as the deployment creates it (auth still off).
  const dynamo = createDynamoDbClient(adminConfig)
  await createStoreTable(dynamo, TABLE)
  dynamo.destroy()
  const kms = new KMSClient(adminConfig)
  const kmsKeys: Record<string, string> = {}
  for (const label of CA_KEY_LABELS) {
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: label }),
    )
    kmsKeys[label] = KeyMetadata?.Arn ?? assert.fail('CreateKey returned no ARN')
  }
  kms.destroy()
  const deployer = await moto.createIamUser('deployer', {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
  })
  await createRole(moto, AUTH_ROLE, 'deployer', [
    { Effect: 'Allow', Action: [...DYNAMODB_STORE_IAM_ACTIONS], Resource: '*' },
    { Effect: 'Allow', Action: ['kms:Sign', 'kms:GetPublicKey'], Resource: '*' },
  ])
  await createRole(moto, ROTATE_ROLE, 'deployer', [
    {
      Effect: 'Allow',
      Action: [...SECRETS_MANAGER_DESTINATION_IAM_ACTIONS],
      Resource: '*',
    },
  ])
  consumerKeys = await moto.createIamUser('consumer', {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
      },
    ],
  })
  const inspector = await moto.createIamUser('inspector', {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }],
  })
  await moto.enableAuth()
  admin = createSecretsManagerClient({ region: REGION, endpoint: moto.endpoint, credentials: inspector })

  authCreds = await assumeRole(moto, deployer, AUTH_ROLE, 'credbroker-test-auth-fn')
  const rotateCreds = await assumeRole(moto, deployer, ROTATE_ROLE, ROTATE_FUNCTION)
  writeFileSync(join(dir, 'bootstrap.yaml'), BOOTSTRAP)

  auth = await startLambdaUrl({
    module: 'functions/auth/handler.ts',
    // The bot addresses the stand-in's loopback URL, not the Function URL domain in the events.
    env: (url) => ({
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: authCreds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: authCreds.secretAccessKey,
      AWS_SESSION_TOKEN: authCreds.sessionToken,
      AWS_LAMBDA_FUNCTION_NAME: 'credbroker-test-auth-fn',
      CREDBROKER_STORE: 'dynamodb',
      CREDBROKER_DYNAMODB_TABLE: TABLE,
      CREDBROKER_DYNAMODB_ENDPOINT: moto.endpoint,
      CREDBROKER_CLUSTER_NAME: 'credbroker-test',
      CREDBROKER_KEY_STORE: 'kms',
      CREDBROKER_KMS_KEYS: JSON.stringify(kmsKeys),
      CREDBROKER_KMS_ENDPOINT: moto.endpoint,
      CREDBROKER_KMS_MESSAGE_TYPE: 'RAW',
      CREDBROKER_STS_ENDPOINT: moto.endpoint,
      CREDBROKER_BOOTSTRAP_FILE: join(dir, 'bootstrap.yaml'),
      CREDBROKER_PUBLIC_ADDR: url,
      CREDBROKER_LOG_LEVEL: 'info',
    }),
  })

  rotateEnv = {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: rotateCreds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: rotateCreds.secretAccessKey,
    AWS_SESSION_TOKEN: rotateCreds.sessionToken,
    AWS_LAMBDA_FUNCTION_NAME: ROTATE_FUNCTION,
    CREDBROKER_AUTH_SERVER: auth.url,
    CREDBROKER_SECRETS_MANAGER_ENDPOINT: moto.endpoint,
    CREDBROKER_BOT_NAME: 'example',
    CREDBROKER_LOG_LEVEL: 'error',
    CREDBROKER_BOT_CONFIG: botConfig([
      { name: 'ssh', roles: ['access'] },
      { name: 'ops', roles: ['access'] },
    ]),
  }
})

after(async () => {
  await auth?.stop()
  admin?.destroy()
  await moto?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** A rotate handler on `rotateEnv` (with overrides), as a cold start builds it. */
function rotateHandler(
  env: Record<string, string> = {},
  inject: { destinations?: ReadonlyMap<string, Destination>; retry?: RetryDeps; fetch?: typeof fetch } = {},
) {
  const merged = { ...rotateEnv, ...env }
  const config = loadRotateLambdaConfig(merged, dir)
  return createRotateHandler(config, { clock: systemClock, log: silentLogger, env: merged, ...inject })
}

async function versionIds(secret: string): Promise<{ current?: string; previous?: string; all: string[] }> {
  const { Versions = [] } = await admin.send(new ListSecretVersionIdsCommand({ SecretId: secret }))
  const staged = (stage: string) => Versions.find((v) => v.VersionStages?.includes(stage))?.VersionId
  return {
    ...(staged('AWSCURRENT') && { current: staged('AWSCURRENT') }),
    ...(staged('AWSPREVIOUS') && { previous: staged('AWSPREVIOUS') }),
    all: Versions.map((v) => v.VersionId ?? '').sort(),
  }
}

/** AWS's AccessDeniedException; moto answers the same 403 with an XML body the SDK cannot parse. */
function denied(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } }
  return e.name === 'AccessDeniedException' || e.$metadata?.httpStatusCode === 403
}

async function fetchCli(args: string[], keys: AccessKey = consumerKeys) {
  const out: string[] = []
  const err: string[] = []
  const code = await main(['fetch', ...args], {
    env: {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      CREDBROKER_SECRETS_MANAGER_ENDPOINT: moto.endpoint,
      CREDBROKER_LOG_LEVEL: 'error',
    },
    cwd: dir,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
  })
  return { code, stdout: out.join('\n'), stderr: err.join('\n') }
}

describe('functions/auth behind a Function URL', () => {
  it('ok/ping answers with the cluster name and the public address', async () => {
    const res = await fetch(`${auth.url}/v1/ping`)
    assert.equal(res.status, 200, auth.output())
    const body = (await res.json()) as { cluster_name: string; public_addr: string }
    assert.equal(body.cluster_name, 'credbroker-test')
    assert.equal(body.public_addr, auth.url)
  })

  it('ok/the CA bundles list the KMS-held user CA as an ECDSA P-256 certificate and SSH key', async () => {
    const res = await fetch(`${auth.url}/v1/cas`)
    assert.equal(res.status, 200)
    const cas = (await res.json()) as { tls: { user: string[] }; ssh: { user: string[] } }
    const ca = new X509Certificate(cas.tls.user[0] ?? '')
    assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1')
    assert.equal(ca.verify(ca.publicKey), true, 'self-signed through KMS')
    assert.match(cas.ssh.user[0] ?? '', /^ecdsa-sha2-nistp256 /)
  })

  it('fail/an unknown path is 404 with a code, and a bad join is refused with its code', async () => {
    const res = await fetch(`${auth.url}/v1/nope`)
    assert.equal(res.status, 404)
    assert.equal(((await res.json()) as { code: string }).code, 'ERR_NOT_FOUND')
    const join = await fetch(`${auth.url}/v1/join`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'no-such-token', public_key: 'x', ttl_seconds: 60 }),
    })
    assert.equal(join.status >= 400 && join.status < 500, true)
    assert.match(((await join.json()) as { code: string }).code, /^ERR_/)
  })
})

describe('functions/rotate on a schedule', () => {
  let first: RotateOutcome

  before(async () => {
    Object.assign(process.env, rotateEnv)
    const { handler } = await import('../../functions/rotate/handler.ts')
    first = await handler(SCHEDULED_EVENT)
  })

  it('ok/one scheduled run: IAM join, then every output written to its own secret', async () => {
    assert.equal(first.ok, true, JSON.stringify(first))
    assert.equal(first.bot, 'example')
    assert.deepEqual(
      first.outputs.map((o) => [o.output, o.ok]),
      [
        ['ssh', true],
        ['ops', true],
      ],
    )
    for (const name of ['ssh', 'ops']) {
      const described = await admin.send(new DescribeSecretCommand({ SecretId: `${PREFIX}${name}` }))
      const tags = Object.fromEntries((described.Tags ?? []).map((t) => [t.Key, t.Value]))
      assert.equal(tags['credbroker:managed'], 'true')
      assert.equal(tags['credbroker:bot'], 'example')
      assert.equal(tags['credbroker:output'], name)
    }
  })

  it('ok/credbroker fetch with GetSecretValue only writes files that openssl and ssh-keygen accept', async () => {
    const out = join(dir, 'fetched')
    const result = await fetchCli(['--secret', `${PREFIX}ssh`, '--out', out])
    assert.equal(result.code, 0, result.stderr)
    for (const name of ['key', 'tlscert', 'key-cert.pub', 'credbroker-user-ca.crt']) {
      assert.equal(statSync(join(out, name)).mode & 0o777, 0o600, name)
    }
    const verified = await opensslVerify({
      caPems: [readFileSync(join(out, 'credbroker-user-ca.crt'), 'utf8')],
      leafPem: readFileSync(join(out, 'tlscert'), 'utf8'),
      purpose: 'sslclient',
    })
    assert.equal(verified.ok, true, verified.output)
    const listed = await sshKeygenList(readFileSync(join(out, 'key-cert.pub'), 'utf8'))
    assert.match(listed, /Type: .*-cert-v01@openssh\.com user certificate/)
    assert.match(listed, /Signing CA: ECDSA /)
    assert.match(listed, /credbroker/)
  })

  it('fail/the consumer may not write the secret, and the auth function may not read it', async () => {
    const consumer = createSecretsManagerClient({
      region: REGION,
      endpoint: moto.endpoint,
      credentials: consumerKeys,
    })
    const authRole = createSecretsManagerClient({
      region: REGION,
      endpoint: moto.endpoint,
      credentials: authCreds,
    })
    try {
      await assert.rejects(
        consumer.send(new PutSecretValueCommand({ SecretId: `${PREFIX}ssh`, SecretString: '{}' })),
        denied,
      )
      await assert.rejects(authRole.send(new GetSecretValueCommand({ SecretId: `${PREFIX}ssh` })), denied)
    } finally {
      consumer.destroy()
      authRole.destroy()
    }
  })

  it('ok/the next run adds one version per secret; the previous stays as AWSPREVIOUS', async () => {
    const before = await versionIds(`${PREFIX}ssh`)
    const outcome = await rotateHandler()(SCHEDULED_EVENT)
    assert.equal(outcome.ok, true, JSON.stringify(outcome))
    const now = await versionIds(`${PREFIX}ssh`)
    assert.equal(now.previous, before.current)
    assert.notEqual(now.current, before.current)
    assert.equal(now.all.length, before.all.length + 1)
  })

  it('fail/pointed at a server that relays the auth function, the rotate function gets no identity and writes nothing', async () => {
    const ssh0 = await versionIds(`${PREFIX}ssh`)
    const ops0 = await versionIds(`${PREFIX}ops`)
    // The relay forwards every call to the auth function: the challenge is the auth function's,
    // but the rotate function signs its join for the relay's origin.
    const RELAY = 'https://auth.relay.example'
    const relayed: string[] = []
    const relay: typeof fetch = async (input, init) => {
      const url = String(input)
      relayed.push(new URL(url).pathname)
      return fetch(url.replace(RELAY, auth.url), init)
    }
    const handler = rotateHandler({ CREDBROKER_AUTH_SERVER: RELAY }, { fetch: relay })
    const err = await handler(SCHEDULED_EVENT).then(
      () => assert.fail('the invocation should fail'),
      (e: unknown) => e,
    )
    assert.ok(relayed.includes('/v1/join/iam'), 'the relay forwarded the signed join')
    assert.equal((err as { code?: string }).code, 'ERR_IAM_BAD_HEADERS', String(err))
    assert.deepEqual(await versionIds(`${PREFIX}ssh`), ssh0)
    assert.deepEqual(await versionIds(`${PREFIX}ops`), ops0)
  })

  it('fail/an output whose roles the bot may not use fails alone, and the invocation fails', async () => {
    const handler = rotateHandler({
      CREDBROKER_BOT_CONFIG: botConfig([
        { name: 'ssh', roles: ['access'] },
        { name: 'forbidden', roles: ['admin'] },
        { name: 'ops', roles: ['access'] },
      ]),
    })
    const err = await handler(SCHEDULED_EVENT).then(
      () => assert.fail('the invocation should fail'),
      (e: unknown) => e,
    )
    assert.ok(err instanceof RotateFailedError, String(err))
    assert.equal(err.code, 'ERR_OUTPUTS_FAILED')
    assert.deepEqual(
      err.outcome.outputs.map((o) => [o.output, o.ok]),
      [
        ['ssh', true],
        ['forbidden', false],
        ['ops', true],
      ],
    )
    const forbidden = err.outcome.outputs[1]
    assert.ok(forbidden && !forbidden.ok)
    assert.equal(forbidden.code, 'ERR_ACCESS_DENIED')
    assert.match(err.message, /1 of 3 outputs failed: forbidden/)
  })
})

describe('functions/rotate: failures between outputs', () => {
  /**
   * Destinations on real Secrets Manager clients, where `fault` decides per output whether the
   * next PutSecretValue/CreateSecret is throttled (as AWS answers it) before reaching moto.
   */
  function destinations(fault: (output: string) => Error | undefined): ReadonlyMap<string, Destination> {
    const config = loadRotateLambdaConfig(rotateEnv, dir)
    return new Map(
      config.bot.outputs.map((o) => {
        const real = createSecretsManagerClient({
          region: REGION,
          endpoint: moto.endpoint,
          credentials: {
            accessKeyId: rotateEnv.AWS_ACCESS_KEY_ID ?? '',
            secretAccessKey: rotateEnv.AWS_SECRET_ACCESS_KEY ?? '',
            sessionToken: rotateEnv.AWS_SESSION_TOKEN ?? '',
          },
        })
        const client: SecretsManagerApi = {
          send: ((command: { constructor: { name: string } }) => {
            // Only writes are faulted (and only writes consult the fault: it may count them).
            const writes = ['PutSecretValueCommand', 'CreateSecretCommand']
            const injected = writes.includes(command.constructor.name) ? fault(o.name) : undefined
            if (injected) return Promise.reject(injected)
            return real.send(command as never)
          }) as SecretsManagerApi['send'],
          destroy: () => real.destroy(),
        }
        const name = o.destination.type === 'aws_secrets_manager' ? o.destination.name : ''
        return [
          o.name,
          new SecretsManagerDestination({ name, client, tags: { bot: 'example', output: o.name } }),
        ]
      }),
    )
  }

  const throttled = () =>
    Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    })

  it('fail→ok/a throttled second output keeps its previous version whole; the next run converges', async () => {
    const ssh0 = await versionIds(`${PREFIX}ssh`)
    const ops0 = await versionIds(`${PREFIX}ops`)
    const opsValue0 = await admin.send(new GetSecretValueCommand({ SecretId: `${PREFIX}ops` }))

    const failing = rotateHandler(
      {},
      { destinations: destinations((o) => (o === 'ops' ? throttled() : undefined)) },
    )
    const err = await failing(SCHEDULED_EVENT).then(
      () => assert.fail('the invocation should fail'),
      (e: unknown) => e,
    )
    assert.ok(err instanceof RotateFailedError)
    const ops = err.outcome.outputs.find((o) => o.output === 'ops')
    assert.ok(ops && !ops.ok)
    assert.equal(ops.code, 'ERR_THROTTLED')

    // ssh moved to a complete new version; ops is exactly what it was.
    const ssh1 = await versionIds(`${PREFIX}ssh`)
    assert.equal(ssh1.previous, ssh0.current)
    assert.equal(ssh1.all.length, ssh0.all.length + 1)
    const ops1 = await versionIds(`${PREFIX}ops`)
    assert.deepEqual(ops1, ops0)
    const opsValue1 = await admin.send(new GetSecretValueCommand({ SecretId: `${PREFIX}ops` }))
    assert.equal(opsValue1.SecretString, opsValue0.SecretString)

    // The next scheduled run writes both, one version each.
    const outcome = await rotateHandler()(SCHEDULED_EVENT)
    assert.equal(outcome.ok, true, JSON.stringify(outcome))
    const ssh2 = await versionIds(`${PREFIX}ssh`)
    const ops2 = await versionIds(`${PREFIX}ops`)
    assert.equal(ssh2.all.length, ssh1.all.length + 1)
    assert.equal(ops2.all.length, ops1.all.length + 1)
    assert.equal(ops2.previous, ops0.current)
  })

  it('ok/a throttle that clears within the run is retried: the invocation succeeds with one new version each', async () => {
    const ops0 = await versionIds(`${PREFIX}ops`)
    let throttles = 1
    const once = (o: string) => (o === 'ops' && throttles-- > 0 ? throttled() : undefined)
    const sleeps: number[] = []
    const handler = rotateHandler(
      {},
      {
        destinations: destinations(once),
        retry: { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 },
      },
    )
    const outcome = await handler(SCHEDULED_EVENT)
    assert.equal(outcome.ok, true, JSON.stringify(outcome))
    assert.equal(sleeps.length, 1, 'one backoff before the second attempt')
    const ops1 = await versionIds(`${PREFIX}ops`)
    assert.equal(ops1.all.length, ops0.all.length + 1)
    assert.equal(ops1.previous, ops0.current)
  })

  it('fail→ok/a crash after the first output: a retried invocation converges without duplicate versions', async () => {
    const ssh0 = await versionIds(`${PREFIX}ssh`)
    const ops0 = await versionIds(`${PREFIX}ops`)
    // The function dies (timeout, out of memory) while writing the second output.
    const crash = Object.assign(new Error('Runtime exited'), { name: 'Error' })
    const crashing = rotateHandler(
      {},
      { destinations: destinations((o) => (o === 'ops' ? crash : undefined)) },
    )
    await assert.rejects(crashing(SCHEDULED_EVENT), RotateFailedError)
    const ops1 = await versionIds(`${PREFIX}ops`)
    assert.deepEqual(ops1, ops0, 'the crashed output is untouched')

    // EventBridge retries the invocation: every secret gets exactly one new version.
    const ssh1 = await versionIds(`${PREFIX}ssh`)
    const outcome = await rotateHandler()(SCHEDULED_EVENT)
    assert.equal(outcome.ok, true)
    const ssh2 = await versionIds(`${PREFIX}ssh`)
    const ops2 = await versionIds(`${PREFIX}ops`)
    assert.equal(ssh1.all.length, ssh0.all.length + 1)
    assert.equal(ssh2.all.length, ssh1.all.length + 1)
    assert.equal(ops2.all.length, ops0.all.length + 1)
    const fetched = await fetchCli(['--secret', `${PREFIX}ops`, '--json'])
    assert.equal(fetched.code, 0, fetched.stderr)
    const credential = JSON.parse(fetched.stdout) as { version_id: string; metadata: { serial: string } }
    assert.equal(credential.version_id, ops2.current)
    const ops = outcome.outputs.find((o) => o.output === 'ops')
    assert.ok(ops?.ok)
    assert.equal(credential.metadata.serial, ops.serial)
  })
})
