/**
 * The infrastructure gives the code what the code asks for (`infra/contracts.ts`): the state
 * table has the shape the DynamoDB store adapter creates, there is a KMS key of a usable spec for
 * every label the CAs request, and the example bootstrap lets the deployed bot join.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { loadInfraConfig, roleName } from '../../../infra/config.ts'
import { CA_KEY_LABELS, CA_KEY_SPEC, STATE_TABLE_SCHEMA } from '../../../infra/contracts.ts'
import type { DynamoDbClient } from '../../../lib/adapters/dynamodb/client.ts'
import { createStoreTable } from '../../../lib/adapters/dynamodb/table.ts'
import { isKmsAlgorithm, KMS_SCHEMES } from '../../../lib/adapters/kms/key-spec.ts'
import { MemoryKeyStore } from '../../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../../lib/adapters/memory/store.ts'
import { loadOrCreateAuthorities } from '../../../lib/ca/authorities.ts'
import { ManualClock } from '../../../lib/clock.ts'
import type { KeyStore } from '../../../lib/ports/key-store.ts'
import type { SignatureAlgorithm } from '../../../lib/ports/signer.ts'
import { sequenceRandom } from '../../../lib/random.ts'
import { parseResources } from '../../../lib/resources/parse.ts'

describe('the state table', () => {
  it('ok/has the key schema and TTL attribute that createStoreTable gives it', async () => {
    const inputs: Record<string, unknown>[] = []
    const client = {
      send: async (command: { input: Record<string, unknown> }) => {
        inputs.push(command.input)
        return {}
      },
      destroy: () => {},
    } as unknown as DynamoDbClient
    await createStoreTable(client, 't')
    const create = inputs.find((i) => 'KeySchema' in i) as {
      KeySchema: { AttributeName: string; KeyType: string }[]
      AttributeDefinitions: { AttributeName: string; AttributeType: string }[]
      GlobalSecondaryIndexes?: unknown
      LocalSecondaryIndexes?: unknown
      StreamSpecification?: unknown
    }
    const ttl = inputs.find((i) => 'TimeToLiveSpecification' in i) as {
      TimeToLiveSpecification: { AttributeName: string; Enabled: boolean }
    }
    const { fields, primaryIndex } = STATE_TABLE_SCHEMA
    assert.deepEqual(create.KeySchema, [
      { AttributeName: primaryIndex.hashKey, KeyType: 'HASH' },
      { AttributeName: primaryIndex.rangeKey, KeyType: 'RANGE' },
    ])
    const sstType = { string: 'S', number: 'N', binary: 'B' } as const
    assert.deepEqual(
      create.AttributeDefinitions,
      Object.entries(fields).map(([name, type]) => ({ AttributeName: name, AttributeType: sstType[type] })),
    )
    assert.equal(create.GlobalSecondaryIndexes, undefined, 'no index: the IAM grant covers the table only')
    assert.equal(create.LocalSecondaryIndexes, undefined)
    assert.equal(create.StreamSpecification, undefined)
    assert.deepEqual(ttl.TimeToLiveSpecification, { AttributeName: STATE_TABLE_SCHEMA.ttl, Enabled: true })
  })
})

describe('the CA keys', () => {
  /** The KMS key store's view of algorithms, recording what the CAs ask it for. */
  class KmsLikeKeyStore implements KeyStore {
    readonly requested = new Map<string, SignatureAlgorithm>()
    readonly #inner = new MemoryKeyStore()
    supports(algorithm: SignatureAlgorithm): boolean {
      return isKmsAlgorithm(algorithm)
    }
    generate(algorithm: SignatureAlgorithm, label: string) {
      this.requested.set(label, algorithm)
      return this.#inner.generate(algorithm, label)
    }
    signer(ref: string) {
      return this.#inner.signer(ref)
    }
    delete(ref: string) {
      return this.#inner.delete(ref)
    }
  }

  it('ok/one key for every label the CAs request, each of a spec that serves the request', async () => {
    const keys = new KmsLikeKeyStore()
    const clock = new ManualClock(new Date('2026-11-22T12:00:00Z'))
    await loadOrCreateAuthorities({
      store: new MemoryStore({ clock }),
      keys,
      clusterName: 'credbroker-dev',
      clock,
      random: sequenceRandom(),
    })
    assert.deepEqual([...keys.requested.keys()].sort(), [...CA_KEY_LABELS].sort())
    for (const [label, algorithm] of keys.requested) {
      assert.ok(isKmsAlgorithm(algorithm), `${label}: ${algorithm}`)
      assert.ok(
        (KMS_SCHEMES[algorithm].keySpecs as readonly string[]).includes(CA_KEY_SPEC),
        `${label} asks for ${algorithm}, which a ${CA_KEY_SPEC} key does not serve`,
      )
    }
  })
})

describe('examples/deploy/bootstrap.yaml', () => {
  it('ok/its iam token admits the rotate and reissue functions of stage dev in eu-west-1 as the example bot', () => {
    const docs = parseResources(readFileSync('examples/deploy/bootstrap.yaml', 'utf8'))
    const token = docs.find((d) => d.kind === 'token')
    assert.ok(token?.kind === 'token' && token.spec.join_method === 'iam')
    const bot = docs.find((d) => d.kind === 'bot' && d.metadata.name === token.spec.bot_name)
    assert.ok(bot, 'the token’s bot is in the file')
    const { names } = loadInfraConfig({ app: 'credbroker', stage: 'dev', env: {} })
    const account = '111111111111'
    assert.deepEqual(token.spec.allow, [
      {
        aws_account: account,
        aws_arn: `arn:aws:sts::${account}:assumed-role/${roleName(names.rotateFunction, 'eu-west-1')}/${names.rotateFunction}`,
      },
      {
        aws_account: account,
        aws_arn: `arn:aws:sts::${account}:assumed-role/${roleName(names.reissueFunction, 'eu-west-1')}/${names.reissueFunction}`,
      },
    ])
  })
})
