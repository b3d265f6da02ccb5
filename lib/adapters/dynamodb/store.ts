/**
 * DynamoDB {@link Store}: the durable backend of a deployed credbroker. One table, one item per key:
 *
 * | attribute    | type | meaning                                                              |
 * |--------------|------|----------------------------------------------------------------------|
 * | `pk`         | S    | partition key: the key's namespace (`role` for `role/admin`)          |
 * | `sk`         | S    | sort key: the full key, so a namespace lists in byte order            |
 * | `value`      | S    | the opaque value                                                      |
 * | `rev`        | S    | revision: a fresh `random.uuid()` on every write                      |
 * | `expires_ms` | N    | expiry in epoch ms, compared with the injected clock (exact)         |
 * | `ttl`        | N    | DynamoDB TTL attribute, epoch **seconds** = ceil(expires_ms / 1000)   |
 *
 * DynamoDB's TTL sweeper deletes expired items only eventually (typically within days), so it is a
 * storage janitor, never the source of truth: every read and every condition compares `expires_ms`
 * with the injected clock. `ttl` is rounded up so the sweeper can never delete an item that is
 * still live by `expires_ms`.
 *
 * Condition expressions. One key over time, `now` being the injected clock (sent as `:now`):
 *
 * ```
 *   time ─────────────────────────────●──────────────────●──────────────────●────────►
 *                                 put(…, E)       E = expires_ms      TTL sweeper
 *                                                                     (days later)
 *                    absent             live               expired, stored    swept
 *   create           ✓                  ✗ AlreadyExists    ✓ overwrites       ✓
 *   compareAndSwap   ✗ RevMismatch      ✓ if rev matches   ✗ RevMismatch      ✗ RevMismatch
 *   delete           ✗ NotFound         ✓                  ✗ NotFound         ✗ NotFound
 *   delete(rev)      ✗ RevMismatch      ✓ if rev matches   ✗ RevMismatch      ✗ RevMismatch
 *   get / list       hidden             visible            hidden             hidden
 *
 *   live            := attribute_not_exists(expires_ms) OR expires_ms > :now
 *   create          :  attribute_not_exists(pk) OR expires_ms <= :now       (absent or expired)
 *   compareAndSwap  :  rev = :rev AND (live)
 *   delete          :  attribute_exists(pk) AND (live)
 *   delete(rev)     :  rev = :rev AND (live)
 *   get / list      :  same `live` test, in code (GetItem) or as a FilterExpression (Query)
 * ```
 * A missing attribute makes a comparison false, so `expires_ms <= :now` is false for items that
 * never expire and `rev = :rev` is false for absent items. Conditions are evaluated atomically with
 * the write, which is what makes create-if-absent and single-use deletes safe under concurrency.
 *
 * Reads are strongly consistent (`ConsistentRead`), so a write is visible to the next read.
 */
import {
  type AttributeValue,
  CreateTableCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb'
import { type Clock, systemClock } from '../../clock.ts'
import {
  AlreadyExistsError,
  type BrokerError,
  InvalidConfigError,
  NotFoundError,
  RevisionMismatchError,
  StoreUnavailableError,
} from '../../errors.ts'
import type {
  DeleteOptions,
  ListOptions,
  ListPage,
  Store,
  StoreItem,
  WriteOptions,
  WriteResult,
} from '../../ports/store.ts'
import { cryptoRandom, type Random } from '../../random.ts'
import {
  checkKey,
  checkPrefix,
  checkValue,
  encodeCursor,
  expiryOf,
  isExpired,
  namespaceOf,
  parseListOptions,
} from '../store-contract.ts'
import { createDynamoDbClient, type DynamoDbClient, type DynamoDbClientConfig } from './client.ts'
import { translateDynamoDbError } from './errors.ts'

/**
 * The IAM actions the adapter calls, all on the table's ARN only (no index, no stream). The
 * infrastructure grants exactly these; `createStoreTable` (CreateTable, UpdateTimeToLive) is
 * tooling and is not included.
 */
export const DYNAMODB_STORE_IAM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
] as const

export interface DynamoDbStoreOptions {
  /** The table's name (3–255 characters of `A–Z a–z 0–9 _ . -`). */
  tableName: string
  /** A client to use; the store does not destroy it on `close()`. */
  client?: DynamoDbClient
  /** Settings for a client the store builds (and destroys on `close()`) when `client` is absent. */
  clientConfig?: DynamoDbClientConfig
  clock?: Clock
  random?: Random
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/
const REGION = /^[a-z0-9]+(-[a-z0-9]+)+$/
/** The item exists and has not expired at `:now` (see the timeline above). */
const LIVE = '(attribute_not_exists(expires_ms) OR expires_ms > :now)'

/** A `ConditionExpression` and the domain error its failure means for the operation. */
interface Condition {
  expression: string
  values: Record<string, AttributeValue>
  failed: () => BrokerError
}

/**
 * @example
 * ```ts
 * const store = new DynamoDbStore({ tableName: 'credbroker-state', clientConfig: { region: 'eu-west-1' } })
 * const { revision } = await store.create('role/admin', JSON.stringify(role))
 * ```
 */
export class DynamoDbStore implements Store {
  readonly #table: string
  readonly #client: DynamoDbClient
  readonly #ownsClient: boolean
  readonly #clock: Clock
  readonly #random: Random
  #closed = false

  /** @throws InvalidConfigError (`ERR_INVALID_CONFIG`) naming the offending option. */
  constructor(options: DynamoDbStoreOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidConfigError('options', 'DynamoDbStore options are required')
    }
    const { tableName, client, clientConfig } = options
    if (typeof tableName !== 'string' || !TABLE_NAME.test(tableName)) {
      throw new InvalidConfigError('tableName', 'must be 3 to 255 characters of A-Z a-z 0-9 _ . -')
    }
    if (client !== undefined && clientConfig !== undefined) {
      throw new InvalidConfigError('clientConfig', 'give either client or clientConfig, not both')
    }
    if (client !== undefined) {
      if (typeof client?.send !== 'function') {
        throw new InvalidConfigError('client', 'must have a send() method')
      }
      this.#client = client
      this.#ownsClient = false
    } else {
      checkClientConfig(clientConfig)
      this.#client = createDynamoDbClient(clientConfig)
      this.#ownsClient = true
    }
    this.#table = tableName
    this.#clock = options.clock ?? systemClock
    this.#random = options.random ?? cryptoRandom
  }

  async get(key: string): Promise<StoreItem | undefined> {
    this.#open()
    checkKey(key)
    const { Item: raw } = await this.#call(() =>
      this.#client.send(
        new GetItemCommand({ TableName: this.#table, Key: keyOf(key), ConsistentRead: true }),
      ),
    )
    if (!raw) return undefined
    const item = toItem(raw)
    // The item may outlive its expiry until the TTL sweeper runs: hide it here.
    return isExpired(item.expires?.getTime(), this.#nowMs()) ? undefined : item
  }

  async create(key: string, value: string, options?: WriteOptions): Promise<WriteResult> {
    this.#open()
    checkKey(key)
    checkValue(value)
    const expiresMs = expiryOf(options)
    return this.#write(key, value, expiresMs, {
      expression: 'attribute_not_exists(pk) OR expires_ms <= :now',
      values: { ':now': numberAttr(this.#nowMs()) },
      failed: () => new AlreadyExistsError(`an item with key "${key}" already exists`),
    })
  }

  async put(key: string, value: string, options?: WriteOptions): Promise<WriteResult> {
    this.#open()
    checkKey(key)
    checkValue(value)
    return this.#write(key, value, expiryOf(options))
  }

  async compareAndSwap(
    key: string,
    expectedRevision: string,
    value: string,
    options?: WriteOptions,
  ): Promise<WriteResult> {
    this.#open()
    checkKey(key)
    checkValue(value)
    if (typeof expectedRevision !== 'string') throw new TypeError('expectedRevision must be a string')
    const expiresMs = expiryOf(options)
    return this.#write(key, value, expiresMs, {
      expression: `rev = :rev AND ${LIVE}`,
      values: { ':rev': { S: expectedRevision }, ':now': numberAttr(this.#nowMs()) },
      failed: () => revisionMismatch(key),
    })
  }

  async delete(key: string, options?: DeleteOptions): Promise<void> {
    this.#open()
    checkKey(key)
    const revision = options?.revision
    if (revision !== undefined && typeof revision !== 'string') {
      throw new TypeError('delete option "revision" must be a string')
    }
    const now = numberAttr(this.#nowMs())
    const condition: Condition =
      revision === undefined
        ? {
            expression: `attribute_exists(pk) AND ${LIVE}`,
            values: { ':now': now },
            failed: () => new NotFoundError(`no item with key "${key}"`),
          }
        : {
            expression: `rev = :rev AND ${LIVE}`,
            values: { ':rev': { S: revision }, ':now': now },
            failed: () => revisionMismatch(key),
          }
    await this.#call(
      () =>
        this.#client.send(
          new DeleteItemCommand({ TableName: this.#table, Key: keyOf(key), ...conditionInput(condition) }),
        ),
      condition.failed,
    )
  }

  /**
   * One page of live items. DynamoDB applies `Limit` *before* the filter that hides expired items,
   * so a query can return fewer live items than asked even though more follow; the loop keeps
   * querying from `LastEvaluatedKey` until the page is full or the key range is exhausted. Each
   * query asks for one item more than still needed: when that look-ahead item is live, more
   * certainly follow, and since the cursor is the last key *kept*, it starts the next page.
   */
  async list(prefix: string, options?: ListOptions): Promise<ListPage> {
    this.#open()
    checkPrefix(prefix)
    const { limit, after } = parseListOptions(prefix, options)
    const pk = namespaceOf(prefix)
    const nowMs = this.#nowMs()
    const items: StoreItem[] = []
    let startKey: Record<string, AttributeValue> | undefined =
      after === undefined ? undefined : { pk: { S: pk }, sk: { S: after } }
    for (;;) {
      const page = await this.#query(pk, prefix, nowMs, limit - items.length + 1, startKey)
      for (const raw of page.Items ?? []) {
        const item = toItem(raw)
        // The filter already compared with the same :now; this keeps the contract on its own.
        if (!isExpired(item.expires?.getTime(), nowMs)) items.push(item)
      }
      if (items.length > limit) items.length = limit
      else if (page.LastEvaluatedKey === undefined) return { items }
      // Here the page is full and more items may follow (a page can be full with the look-ahead
      // item expired, so "may"); otherwise the loop continues where DynamoDB stopped.
      const last = items.at(-1)
      if (items.length === limit && last) return { items, nextCursor: encodeCursor(last.key) }
      startKey = page.LastEvaluatedKey
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#ownsClient) this.#client.destroy()
  }

  #query(
    pk: string,
    prefix: string,
    nowMs: number,
    limit: number,
    startKey: Record<string, AttributeValue> | undefined,
  ): Promise<QueryCommandOutput> {
    return this.#call(() =>
      this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          FilterExpression: LIVE,
          ExpressionAttributeValues: {
            ':pk': { S: pk },
            ':prefix': { S: prefix },
            ':now': numberAttr(nowMs),
          },
          ConsistentRead: true,
          Limit: limit,
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      ),
    )
  }

  async #write(
    key: string,
    value: string,
    expiresMs: number | undefined,
    condition?: Condition,
  ): Promise<WriteResult> {
    const revision = this.#random.uuid()
    const item: Record<string, AttributeValue> = { ...keyOf(key), value: { S: value }, rev: { S: revision } }
    if (expiresMs !== undefined) {
      item.expires_ms = numberAttr(expiresMs)
      // Rounded up: the TTL sweeper must never remove an item before `expires_ms`.
      item.ttl = numberAttr(Math.ceil(expiresMs / 1000))
    }
    await this.#call(
      () =>
        this.#client.send(
          new PutItemCommand({
            TableName: this.#table,
            Item: item,
            ...(condition && conditionInput(condition)),
          }),
        ),
      condition?.failed,
    )
    return { revision }
  }

  /** Runs one SDK call; every failure leaves as a domain error. */
  async #call<T>(send: () => Promise<T>, conditionFailed?: () => BrokerError): Promise<T> {
    try {
      return await send()
    } catch (err) {
      throw translateDynamoDbError(err, {
        tableName: this.#table,
        ...(conditionFailed && { conditionFailed }),
      })
    }
  }

  #nowMs(): number {
    return this.#clock.now().getTime()
  }

  #open(): void {
    if (this.#closed) throw new TypeError('DynamoDbStore is closed')
  }
}

function conditionInput(condition: Condition) {
  return { ConditionExpression: condition.expression, ExpressionAttributeValues: condition.values }
}

/**
 * Creates the store's table: on-demand billing, `pk` (HASH) + `sk` (RANGE), TTL on `ttl`. For tests
 * and local tooling; deployed tables come from the infrastructure code with the same shape.
 */
export async function createStoreTable(client: DynamoDbClient, tableName: string): Promise<void> {
  const ctx = { tableName }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    )
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      }),
    )
  } catch (err) {
    throw translateDynamoDbError(err, ctx)
  }
}

function checkClientConfig(config: DynamoDbClientConfig | undefined): asserts config is DynamoDbClientConfig {
  if (typeof config !== 'object' || config === null) {
    throw new InvalidConfigError('clientConfig', 'required when no client is given')
  }
  if (typeof config.region !== 'string' || !REGION.test(config.region)) {
    throw new InvalidConfigError('clientConfig.region', 'must be an AWS region such as us-east-1')
  }
  if (config.endpoint !== undefined) {
    let protocol: string | undefined
    try {
      protocol = new URL(config.endpoint).protocol
    } catch {
      protocol = undefined
    }
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new InvalidConfigError('clientConfig.endpoint', 'must be an http or https URL')
    }
  }
  const credentials = config.credentials
  if (
    credentials !== undefined &&
    (typeof credentials?.accessKeyId !== 'string' ||
      credentials.accessKeyId === '' ||
      typeof credentials.secretAccessKey !== 'string' ||
      credentials.secretAccessKey === '')
  ) {
    // Never echo the values: they are secrets.
    throw new InvalidConfigError(
      'clientConfig.credentials',
      'needs a non-empty accessKeyId and secretAccessKey',
    )
  }
}

function keyOf(key: string): Record<string, AttributeValue> {
  return { pk: { S: namespaceOf(key) }, sk: { S: key } }
}

function numberAttr(n: number): AttributeValue {
  return { N: String(n) }
}

/** Reads a raw item; anything off-schema is the backend's fault, not the caller's. */
function toItem(raw: Record<string, AttributeValue>): StoreItem {
  const key = raw.sk?.S
  const value = raw.value?.S
  const revision = raw.rev?.S
  const expiresText = raw.expires_ms?.N
  const expiresMs = expiresText === undefined ? undefined : Number(expiresText)
  if (key === undefined || value === undefined || revision === undefined || Number.isNaN(expiresMs)) {
    throw new StoreUnavailableError('the state store returned an item that does not match its schema')
  }
  return expiresMs === undefined
    ? { key, value, revision }
    : { key, value, revision, expires: new Date(expiresMs) }
}

function revisionMismatch(key: string): RevisionMismatchError {
  return new RevisionMismatchError(`item "${key}" is absent or at another revision`)
}
