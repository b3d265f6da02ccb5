/**
 * The DynamoDB store against moto, with SigV4 signature checking and IAM authorisation on: the
 * adapter runs as an IAM user that may call only {@link DYNAMODB_STORE_IAM_ACTIONS}.
 *
 * Set-up order (auth is off until step 3):
 * 1. the table is created with moto's admin credentials, as the infrastructure would create it;
 *    the adapter's user gets no CreateTable, exactly as in production;
 * 2. the IAM user, its inline policy and its access key are created;
 * 3. auth is switched on; from then on every request is signature-checked and authorised.
 *
 * Policy resource: on AWS the statement is scoped to the table's ARN. moto 5.2 authorises every
 * DynamoDB request against the resource `"*"` (it resolves no resource ARN for DynamoDB; only IAM,
 * STS, SQS and S3 get one), so an ARN-scoped statement never matches there and denies everything.
 * The test policy therefore uses `"*"` for the resource while still limiting the *actions*, which is
 * what this file can check: the whole conformance suite passes with those four actions, and an
 * action outside them is denied.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import {
  GetItemCommand,
  type GetItemCommandOutput,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb'
import { createDynamoDbClient, type DynamoDbClient } from '../../lib/adapters/dynamodb/client.ts'
import { DynamoDbStore, type DynamoDbStoreOptions } from '../../lib/adapters/dynamodb/store.ts'
import { createStoreTable, DYNAMODB_STORE_IAM_ACTIONS } from '../../lib/adapters/dynamodb/table.ts'
import { ManualClock } from '../../lib/clock.ts'
import { runStoreConformance, type StoreHarness } from '../conformance/store.suite.ts'
import { type AccessKey, type MotoServer, startMoto } from '../helpers/moto.ts'
import { freePort } from '../helpers/peer-process.ts'

const TABLE = `credbroker-store-${randomBytes(4).toString('hex')}`

let moto: MotoServer
let keys: AccessKey
/** The adapter's user's client, shared by every store of the file (a store never destroys it). */
let client: DynamoDbClient

before(async () => {
  moto = await startMoto({ auth: true })
  const admin = createDynamoDbClient({
    region: moto.region,
    endpoint: moto.endpoint,
    credentials: moto.adminCredentials,
  })
  try {
    await createStoreTable(admin, TABLE)
  } finally {
    admin.destroy()
  }
  keys = await moto.createIamUser('credbroker-store', {
    Version: '2012-10-17',
    Statement: [
      // On AWS: the table's ARN, arn:aws:dynamodb:us-east-1:123456789012:table/<TABLE>. See the file
      // comment for why moto needs "*".
      { Effect: 'Allow', Action: [...DYNAMODB_STORE_IAM_ACTIONS], Resource: '*' },
    ],
  })
  await moto.enableAuth()
  client = createDynamoDbClient({ region: moto.region, endpoint: moto.endpoint, credentials: keys })
})

after(async () => {
  client?.destroy()
  await moto?.stop()
})

function newStore(options: Partial<DynamoDbStoreOptions> = {}): DynamoDbStore {
  return new DynamoDbStore({ tableName: TABLE, client, ...options })
}

// DynamoDB is durable across adapter instances: reopen() is a new store over the same table, so the
// durability test runs too.
runStoreConformance('dynamodb (moto)', async () => {
  const clock = new ManualClock()
  const harness: StoreHarness = {
    store: newStore({ clock }),
    clock,
    cleanup: () => harness.store.close(),
    async reopen() {
      await harness.store.close()
      return newStore({ clock })
    },
  }
  return harness
})

/** Reads an item as stored, bypassing the adapter. */
async function rawItem(key: string): Promise<GetItemCommandOutput['Item']> {
  const out = await client.send(
    new GetItemCommand({
      TableName: TABLE,
      Key: { pk: { S: key.slice(0, key.indexOf('/')) }, sk: { S: key } },
      ConsistentRead: true,
    }),
  )
  return out.Item
}

function namespace(): string {
  return `x${randomBytes(6).toString('hex')}`
}

interface CodedError {
  code: string
  status: number
  message: string
}

async function rejection(promise: Promise<unknown>): Promise<CodedError> {
  try {
    await promise
  } catch (err) {
    return err as CodedError
  }
  assert.fail('expected a rejection')
}

describe('DynamoDbStore on moto', () => {
  it('fail/wrong secret key: ERR_STORE_UNAVAILABLE saying access was denied, without the secret', async () => {
    const wrongSecret = `wrong-${randomBytes(12).toString('hex')}`
    const store = new DynamoDbStore({
      tableName: TABLE,
      clientConfig: {
        region: moto.region,
        endpoint: moto.endpoint,
        credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: wrongSecret },
      },
    })
    try {
      const err = await rejection(store.get(`${namespace()}/a`))
      assert.equal(err.code, 'ERR_STORE_UNAVAILABLE')
      assert.equal(err.status, 503)
      assert.match(err.message, /access .* was denied/)
      for (const secret of [wrongSecret, keys.secretAccessKey, keys.accessKeyId]) {
        assert.ok(!err.message.includes(secret), 'the message must not contain credentials')
        assert.ok(!JSON.stringify(err).includes(secret), 'the JSON view must not contain credentials')
      }
    } finally {
      await store.close()
    }
  })

  it('fail/unknown access key: ERR_STORE_UNAVAILABLE saying access was denied', async () => {
    const store = new DynamoDbStore({
      tableName: TABLE,
      clientConfig: {
        region: moto.region,
        endpoint: moto.endpoint,
        credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'not-a-real-secret' },
      },
    })
    try {
      const err = await rejection(store.put(`${namespace()}/a`, 'v'))
      assert.equal(err.code, 'ERR_STORE_UNAVAILABLE')
      assert.match(err.message, /denied/)
    } finally {
      await store.close()
    }
  })

  it('fail/action outside the granted ones is denied (the four actions are all the adapter needs)', async () => {
    await assert.rejects(client.send(new ScanCommand({ TableName: TABLE, Limit: 1 })), (err: unknown) => {
      assert.equal((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 403)
      return true
    })
  })

  it('fail/missing table: ERR_STORE_UNAVAILABLE naming the table, for reads, writes and lists', async () => {
    const missing = `credbroker-missing-${randomBytes(4).toString('hex')}`
    const store = newStore({ tableName: missing })
    const ns = namespace()
    for (const attempt of [
      () => store.get(`${ns}/a`),
      () => store.create(`${ns}/a`, 'v'),
      () => store.delete(`${ns}/a`),
      () => store.list(`${ns}/`),
    ]) {
      const err = await rejection(attempt())
      assert.equal(err.code, 'ERR_STORE_UNAVAILABLE')
      assert.ok(err.message.includes(missing), `message should name the table: ${err.message}`)
    }
    await store.close()
  })

  it('ok/an expired item that still exists in the table is invisible to every method', async () => {
    const clock = new ManualClock()
    const store = newStore({ clock })
    const ns = namespace()
    await store.put(`${ns}/live`, 'a')
    const { revision } = await store.put(`${ns}/gone`, 'b', {
      expires: new Date(clock.now().getTime() + 1000),
    })
    clock.advance(1000)

    assert.ok(await rawItem(`${ns}/gone`), 'moto never sweeps TTL, so the item is still stored')
    assert.equal(await store.get(`${ns}/gone`), undefined)
    assert.deepEqual(
      (await store.list(`${ns}/`)).items.map((i) => i.key),
      [`${ns}/live`],
    )
    await assert.rejects(store.compareAndSwap(`${ns}/gone`, revision, 'c'), { code: 'ERR_REVISION_MISMATCH' })
    await assert.rejects(store.delete(`${ns}/gone`), { code: 'ERR_NOT_FOUND' })
    await assert.rejects(store.delete(`${ns}/gone`, { revision }), { code: 'ERR_REVISION_MISMATCH' })
    await store.create(`${ns}/gone`, 'new')
    assert.equal((await store.get(`${ns}/gone`))?.value, 'new')
  })

  it('ok/ttl is written in epoch seconds, rounded up, next to the exact expires_ms', async () => {
    const clock = new ManualClock()
    const store = newStore({ clock })
    const ns = namespace()
    const expiresMs = clock.now().getTime() + 1_500
    await store.put(`${ns}/e`, 'v', { expires: new Date(expiresMs) })

    const item = await rawItem(`${ns}/e`)
    assert.equal(item?.expires_ms?.N, String(expiresMs))
    assert.equal(item?.ttl?.N, String(Math.ceil(expiresMs / 1000)))
    assert.ok(Number(item?.ttl?.N) * 1000 >= expiresMs, 'the sweeper must never delete early')
    assert.equal(item?.pk?.S, ns)
    assert.equal(item?.sk?.S, `${ns}/e`)

    await store.put(`${ns}/e`, 'v2')
    const cleared = await rawItem(`${ns}/e`)
    assert.equal(cleared?.ttl, undefined)
    assert.equal(cleared?.expires_ms, undefined)
  })

  it('ok/list fills a page past expired items (Limit counts items before the filter)', async () => {
    const clock = new ManualClock()
    let queries = 0
    const counting: DynamoDbClient = {
      send: ((command: Parameters<DynamoDbClient['send']>[0]) => {
        if (command instanceof QueryCommand) queries++
        return client.send(command)
      }) as DynamoDbClient['send'],
      destroy: () => {},
    }
    const store = newStore({ clock, client: counting })
    const ns = namespace()
    const soon = new Date(clock.now().getTime() + 1000)
    for (let i = 0; i < 10; i++) {
      const expiring = i >= 1 && i <= 7
      await store.put(`${ns}/k${i}`, 'v', expiring ? { expires: soon } : {})
    }
    clock.advance(1000)

    const first = await store.list(`${ns}/`, { limit: 2 })
    assert.deepEqual(
      first.items.map((i) => i.key),
      [`${ns}/k0`, `${ns}/k8`],
    )
    assert.ok(first.nextCursor, 'k9 follows')
    assert.ok(queries > 1, 'expired items in the way need more than one query')
    const second = await store.list(`${ns}/`, { limit: 2, cursor: first.nextCursor })
    assert.deepEqual(
      second.items.map((i) => i.key),
      [`${ns}/k9`],
    )
    assert.equal(second.nextCursor, undefined)
  })
})

describe('DynamoDbStore without a server', () => {
  it('fail/nothing listens at the endpoint: ERR_STORE_UNAVAILABLE', async () => {
    const store = new DynamoDbStore({
      tableName: TABLE,
      clientConfig: {
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${await freePort()}`,
        credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'not-a-real-secret' },
      },
    })
    try {
      const err = await rejection(store.get(`${namespace()}/a`))
      assert.equal(err.code, 'ERR_STORE_UNAVAILABLE')
      assert.equal(err.status, 503)
    } finally {
      await store.close()
    }
  })
})

describe('DynamoDbStore configuration', () => {
  const stub: DynamoDbClient = {
    send: (() => Promise.reject(new Error('unused'))) as DynamoDbClient['send'],
    destroy: () => {},
  }
  const cases: Array<[string, unknown, string]> = [
    ['fail/no options', undefined, 'options'],
    ['fail/missing table name', { client: stub }, 'tableName'],
    ['fail/table name too short', { tableName: 'ab', client: stub }, 'tableName'],
    ['fail/table name with a slash', { tableName: 'a/b/c', client: stub }, 'tableName'],
    ['fail/neither client nor clientConfig', { tableName: 'credbroker' }, 'clientConfig'],
    [
      'fail/both client and clientConfig',
      { tableName: 'credbroker', client: stub, clientConfig: { region: 'us-east-1' } },
      'clientConfig',
    ],
    ['fail/client without send', { tableName: 'credbroker', client: {} }, 'client'],
    ['fail/region missing', { tableName: 'credbroker', clientConfig: {} }, 'clientConfig.region'],
    [
      'fail/region malformed',
      { tableName: 'credbroker', clientConfig: { region: 'US East' } },
      'clientConfig.region',
    ],
    [
      'fail/endpoint not a URL',
      { tableName: 'credbroker', clientConfig: { region: 'us-east-1', endpoint: '127.0.0.1:8000' } },
      'clientConfig.endpoint',
    ],
    [
      'fail/credentials with an empty secret',
      {
        tableName: 'credbroker',
        clientConfig: {
          region: 'us-east-1',
          credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: '' },
        },
      },
      'clientConfig.credentials',
    ],
  ]
  for (const [name, options, field] of cases) {
    it(name, () => {
      assert.throws(
        () => new DynamoDbStore(options as DynamoDbStoreOptions),
        (err: unknown) => {
          assert.equal((err as { code?: string }).code, 'ERR_INVALID_CONFIG')
          assert.equal((err as { field?: string }).field, field)
          return true
        },
      )
    })
  }

  it('ok/a valid clientConfig builds a store without any I/O', async () => {
    const store = new DynamoDbStore({
      tableName: 'credbroker-state',
      clientConfig: { region: 'eu-west-1', endpoint: 'http://127.0.0.1:1' },
    })
    await store.close()
  })

  it('ok/the IAM actions are the four data-plane calls on one table', () => {
    assert.deepEqual([...DYNAMODB_STORE_IAM_ACTIONS].sort(), [
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ])
  })
})
