/**
 * The store's table as infrastructure sees it: the IAM actions the adapter needs, and a helper
 * that creates a table of the right shape for tests and local tooling.
 */
import { CreateTableCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb'
import type { DynamoDbClient } from './client.ts'
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
