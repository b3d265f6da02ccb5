/**
 * The Secrets Manager destination against moto, with SigV4 signature checking and IAM
 * authorisation on: the adapter runs as an IAM user that may call only
 * {@link SECRETS_MANAGER_DESTINATION_IAM_ACTIONS}; a second user ("inspector", secretsmanager:*)
 * plants and inspects secrets behind the adapter's back.
 *
 * Set-up order (auth is off until step 3): 1. a KMS key is created with moto's admin credentials
 * (raw KMS JSON request: @aws-sdk/client-kms is not installed); 2. the two IAM users; 3. auth on.
 *
 * Policy resource: POLICY_RESOURCE below (see the comment there).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
} from '@aws-sdk/client-secrets-manager'
import {
  createSecretsManagerClient,
  type SecretsManagerApi,
} from '../../lib/adapters/secrets-manager/client.ts'
import {
  readerPolicy,
  SECRETS_MANAGER_DESTINATION_IAM_ACTIONS,
  SecretsManagerDestination,
  type SecretsManagerDestinationOptions,
} from '../../lib/adapters/secrets-manager/destination.ts'
import { openDestination } from '../../lib/bot/destinations.ts'
import { ManualClock } from '../../lib/clock.ts'
import { InvalidConfigError, RevisionMismatchError, TooLargeError } from '../../lib/errors.ts'
import { runDestinationConformance } from '../conformance/destination.suite.ts'
import { type AccessKey, MOTO_ACCOUNT_ID, type MotoServer, startMoto } from '../helpers/moto.ts'

const PREFIX = `credbroker-test-${randomBytes(3).toString('hex')}`
/**
 * On AWS: `arn:aws:secretsmanager:us-east-1:123456789012:secret:<PREFIX>/*`. moto 5.2 authorises
 * Secrets Manager requests against the resource "*" only (it resolves resource ARNs for IAM, STS,
 * SQS and S3), so an ARN-scoped statement denies everything there; the test limits the actions.
 */
const POLICY_RESOURCE = '*'

let moto: MotoServer
let keys: AccessKey
let client: SecretsManagerApi
let inspector: SecretsManagerApi
let kmsKeyId: string

const clock = new ManualClock()
const newName = () => `${PREFIX}/${randomBytes(6).toString('hex')}`
const set = (entries: Record<string, string>) => new Map(Object.entries(entries))
const asText = (m: Map<string, Uint8Array>) =>
  Object.fromEntries([...m].map(([k, v]) => [k, new TextDecoder().decode(v)]))

function open(name: string, options: Partial<SecretsManagerDestinationOptions> = {}) {
  return new SecretsManagerDestination({
    name,
    client,
    tags: { bot: 'ci', output: 'out' },
    clock,
    ...options,
  })
}

async function createKmsKey(): Promise<string> {
  const res = await fetch(moto.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'TrentService.CreateKey',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${moto.region}/kms/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify({ Description: 'credbroker test' }),
  })
  const body = (await res.json()) as { KeyMetadata?: { KeyId?: string } }
  if (res.status !== 200 || !body.KeyMetadata?.KeyId) throw new Error(`KMS CreateKey answered ${res.status}`)
  return body.KeyMetadata.KeyId
}

before(async () => {
  moto = await startMoto({ auth: true })
  kmsKeyId = await createKmsKey()
  keys = await moto.createIamUser('credbroker-dest', {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: [...SECRETS_MANAGER_DESTINATION_IAM_ACTIONS], Resource: POLICY_RESOURCE },
    ],
  })
  const inspectorKeys = await moto.createIamUser('inspector', {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }],
  })
  await moto.enableAuth()
  const config = { region: moto.region, endpoint: moto.endpoint }
  client = createSecretsManagerClient({ ...config, credentials: keys })
  inspector = createSecretsManagerClient({ ...config, credentials: inspectorKeys })
})

after(async () => {
  client?.destroy()
  inspector?.destroy()
  await moto?.stop()
})

runDestinationConformance(
  'aws_secrets_manager (moto)',
  async () => {
    const name = newName()
    return {
      destination: open(name),
      sibling: () => open(name),
      reopen: () => open(name),
      cleanup: async () => {},
    }
  },
  { idempotentRetries: true },
)

async function versionCount(name: string): Promise<number> {
  const out = await inspector.send(new ListSecretVersionIdsCommand({ SecretId: name }))
  return out.Versions?.length ?? 0
}

async function current(name: string, stage = 'AWSCURRENT') {
  const out = await inspector.send(new GetSecretValueCommand({ SecretId: name, VersionStage: stage }))
  return JSON.parse(out.SecretString ?? '') as Record<string, unknown> & {
    artifacts: Record<string, { encoding: string; data: string }>
  }
}

describe('Class: SecretsManagerDestination on moto', () => {
  it('ok/creates a tagged secret holding one credbroker.v1 document', async () => {
    const name = newName()
    const d = open(name, { metadata: { output_type: 'identity' } })
    await d.write(
      new Map<string, string | Uint8Array>([
        ['key', 'PEM'],
        ['bin', Uint8Array.of(0xff, 0)],
      ]),
      {
        issuanceId: 'iss-1',
      },
    )
    const doc = await current(name)
    assert.deepEqual(doc, {
      format: 'credbroker.v1',
      issuance_id: 'iss-1',
      written_at: clock.now().toISOString(),
      artifacts: { bin: { encoding: 'base64', data: '/wA=' }, key: { encoding: 'utf8', data: 'PEM' } },
      output_type: 'identity',
    })
    const described = await inspector.send(new DescribeSecretCommand({ SecretId: name }))
    const tags = Object.fromEntries((described.Tags ?? []).map((t) => [t.Key, t.Value]))
    assert.deepEqual(tags, {
      'credbroker:managed': 'true',
      'credbroker:bot': 'ci',
      'credbroker:output': 'out',
    })
    assert.equal(d.describe(), `aws_secrets_manager ${name}`)
  })

  it('ok/the version id is the AWSCURRENT VersionId, on creation and on a later put', async () => {
    const name = newName()
    const d = open(name)
    const currentId = async () => {
      const described = await inspector.send(new DescribeSecretCommand({ SecretId: name }))
      return Object.entries(described.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0]
    }
    const created = await d.write(set({ key: 'one' }), { issuanceId: 'iss-v1' })
    assert.equal(created.versionId, await currentId())
    const put = await d.write(set({ key: 'two' }), { issuanceId: 'iss-v2' })
    assert.equal(put.versionId, await currentId())
    assert.notEqual(put.versionId, created.versionId)
  })

  it('fail/a pre-existing secret without the managed tag is never overwritten', async () => {
    const name = newName()
    await inspector.send(new CreateSecretCommand({ Name: name, SecretString: 'precious' }))
    const err = await open(name)
      .write(set({ key: 'k' }))
      .then(
        () => assert.fail('expected a refusal'),
        (e: unknown) => e,
      )
    assert.ok(err instanceof InvalidConfigError, String(err))
    assert.equal(err.field, 'name')
    assert.match(err.message, new RegExp(`secret "${name}" exists but is not managed by credbroker`))
    const out = await inspector.send(new GetSecretValueCommand({ SecretId: name }))
    assert.equal(out.SecretString, 'precious')
    assert.equal(await versionCount(name), 1)
    await assert.rejects(open(name).readAll(), InvalidConfigError, 'a foreign value is not our document')
  })

  it('ok/retrying one issuance makes one version, even at a later time', async () => {
    const name = newName()
    const d = open(name)
    await d.write(set({ key: 'one' }), { issuanceId: 'iss-a' })
    await d.write(set({ key: 'one' }), { issuanceId: 'iss-a' })
    clock.advance(60_000)
    await open(name).write(set({ key: 'one' }), { issuanceId: 'iss-a' })
    assert.equal(await versionCount(name), 1)
  })

  it('ok/without an issuance id an identical retry is a no-op, and A-B-A makes A current again', async () => {
    const name = newName()
    const d = open(name)
    await d.write(set({ key: 'A' }))
    await d.write(set({ key: 'A' }))
    assert.equal(await versionCount(name), 1)
    await d.write(set({ key: 'B' }))
    clock.advance(1_000)
    await d.write(set({ key: 'A' }))
    assert.deepEqual(asText(await d.readAll()), { key: 'A' })
    assert.equal(await versionCount(name), 2)
  })

  it('fail/the same issuance with other artifacts is ERR_REVISION_MISMATCH and changes nothing', async () => {
    const name = newName()
    const d = open(name)
    await d.write(set({ key: 'one' }), { issuanceId: 'iss-b' })
    await d.write(set({ key: 'two' }), { issuanceId: 'iss-c' })
    await assert.rejects(d.write(set({ key: 'other' }), { issuanceId: 'iss-b' }), (err) => {
      assert.ok(err instanceof RevisionMismatchError, String(err))
      assert.match(err.message, /already holds issuance iss-b with different artifacts/)
      return true
    })
    assert.deepEqual(asText(await d.readAll()), { key: 'two' })
    assert.equal(await versionCount(name), 2)
  })

  it('fail/a document over 65,536 bytes is ERR_TOO_LARGE before any request; no secret is created', async () => {
    const name = newName()
    await assert.rejects(open(name).write(set({ key: 'x'.repeat(65_536) })), (err) => {
      assert.ok(err instanceof TooLargeError, String(err))
      assert.match(err.message, new RegExp(`secret "${name}" is \\d+ bytes .* at most 65536`))
      return true
    })
    await assert.rejects(inspector.send(new DescribeSecretCommand({ SecretId: name })), {
      name: 'ResourceNotFoundException',
    })
  })

  it('ok/after two writes AWSPREVIOUS holds the first document', async () => {
    const name = newName()
    const d = open(name)
    await d.write(set({ key: 'first' }), { issuanceId: 'i1' })
    await d.write(set({ key: 'second' }), { issuanceId: 'i2' })
    assert.equal((await current(name, 'AWSPREVIOUS')).artifacts.key?.data, 'first')
    assert.equal((await current(name)).artifacts.key?.data, 'second')
  })

  it('ok/readers become the resource policy', async () => {
    const name = newName()
    const readers = [`arn:aws:iam::${MOTO_ACCOUNT_ID}:role/app`, `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/ops`]
    await open(name, { readers }).write(set({ key: 'k' }))
    const out = await inspector.send(new GetResourcePolicyCommand({ SecretId: name }))
    assert.deepEqual(JSON.parse(out.ResourcePolicy ?? ''), readerPolicy(readers))
  })

  it('ok/the KMS key id is passed to CreateSecret', async () => {
    const name = newName()
    await open(name, { kmsKeyId }).write(set({ key: 'k' }))
    const described = await inspector.send(new DescribeSecretCommand({ SecretId: name }))
    assert.equal(described.KmsKeyId, kmsKeyId)
  })

  it('fail/wrong secret key: ERR_UPSTREAM_UNAVAILABLE saying access was denied, without the secret', async () => {
    const wrongSecret = `wrong-${randomBytes(12).toString('hex')}`
    const d = new SecretsManagerDestination({
      name: newName(),
      clientConfig: {
        region: moto.region,
        endpoint: moto.endpoint,
        credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: wrongSecret },
      },
      tags: { bot: 'ci', output: 'out' },
    })
    try {
      const err = (await d.write(set({ key: 'k' })).then(
        () => assert.fail('expected a rejection'),
        (e: unknown) => e,
      )) as { code: string; message: string }
      assert.equal(err.code, 'ERR_UPSTREAM_UNAVAILABLE')
      assert.match(err.message, /access to Secrets Manager secret .* was denied/)
      for (const s of [wrongSecret, keys.secretAccessKey]) {
        assert.ok(!err.message.includes(s), 'the message must not contain credentials')
        assert.ok(!JSON.stringify(err).includes(s), 'the JSON view must not contain credentials')
      }
    } finally {
      d.close()
    }
  })

  it("fail/an action outside the adapter's policy is denied (the policy is what the suite ran with)", async () => {
    await assert.rejects(
      client.send(new ListSecretsCommand({})),
      (err: { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(err.$metadata?.httpStatusCode, 403)
        return true
      },
    )
  })

  it('fail/bad options are InvalidConfigError naming the option', () => {
    const bad: [Partial<SecretsManagerDestinationOptions>, string][] = [
      [{ name: 'has space' }, 'name'],
      [{ name: '' }, 'name'],
      [{ readers: ['arn:aws:iam::1:role/x'] }, 'readers[0]'],
      [{ readers: ['arn:aws:iam::123456789012:role/a', 'arn:aws:iam::123456789012:role/a'] }, 'readers[1]'],
      [{ tags: { bot: '', output: 'o' } }, 'tags.bot'],
      [{ kmsKeyId: 'bad key' }, 'kmsKeyId'],
      [{ client: undefined, clientConfig: { region: 'nowhere' } }, 'clientConfig.region'],
    ]
    for (const [options, field] of bad) {
      assert.throws(
        () => open('n', options),
        (err) => err instanceof InvalidConfigError && err.field === field,
        field,
      )
    }
  })
})

describe('openDestination: aws_secrets_manager', () => {
  const config = { type: 'aws_secrets_manager', name: 'prod/ci', readers: [] } as const
  it('ok/builds the adapter with the config region or the default one', () => {
    const d = openDestination({ ...config, region: 'eu-west-1' }, 'outputs[0].destination', clock)
    assert.equal(d.describe(), 'aws_secrets_manager prod/ci')
    const e = openDestination(config, 'outputs[0].destination', clock, { defaultRegion: 'us-east-1' })
    assert.ok(e instanceof SecretsManagerDestination)
  })
  it('fail/no region anywhere is InvalidConfigError on the field', () => {
    assert.throws(
      () => openDestination(config, 'outputs[0].destination', clock),
      (err) => err instanceof InvalidConfigError && err.field === 'outputs[0].destination.region',
    )
  })
})
