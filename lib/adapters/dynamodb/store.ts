/**
 * DynamoDB {@link Store}: the durable backend of a deployed credbroker. One table, one item per key;
 * the attribute layout is in `item.ts`, the condition expressions and their timeline in
 * `conditions.ts`, the table's shape and IAM actions in `table.ts`.
 *
 * DynamoDB's TTL sweeper deletes expired items only eventually (typically within days), so it is a
 * storage janitor, never the source of truth: every read and every condition compares `expires_ms`
 * with the injected clock. `ttl` is rounded up so the sweeper can never delete an item that is
 * still live by `expires_ms`.
 *
 * Reads are strongly consistent (`ConsistentRead`), so a write is visible to the next read.
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb'
import { type Clock, systemClock } from '../../clock.ts'
import { type BrokerError, InvalidConfigError } from '../../errors.ts'
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
import {
  absentCondition,
  type Condition,
  conditionInput,
  LIVE,
  liveCondition,
  revisionCondition,
} from './conditions.ts'
import { checkClientChoice, checkClientConfig, checkTableName } from './config.ts'
import { translateDynamoDbError } from './errors.ts'
import { keyOf, numberAttr, toAttributes, toItem } from './item.ts'

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
    checkTableName(tableName)
    checkClientChoice(client, clientConfig)
    if (client !== undefined) {
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
    return this.#write(key, value, expiresMs, absentCondition(key, this.#nowMs()))
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
    return this.#write(key, value, expiresMs, revisionCondition(key, expectedRevision, this.#nowMs()))
  }

  async delete(key: string, options?: DeleteOptions): Promise<void> {
    this.#open()
    checkKey(key)
    const revision = options?.revision
    if (revision !== undefined && typeof revision !== 'string') {
      throw new TypeError('delete option "revision" must be a string')
    }
    const nowMs = this.#nowMs()
    const condition =
      revision === undefined ? liveCondition(key, nowMs) : revisionCondition(key, revision, nowMs)
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
    const item = toAttributes(key, value, revision, expiresMs)
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
