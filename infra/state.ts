/**
 * The auth service's state: one DynamoDB table (on-demand billing) in the shape the DynamoDB
 * store adapter expects ({@link STATE_TABLE_SCHEMA}), with TTL on `ttl` and point-in-time
 * recovery. Production turns deletion protection on; the app's `removal: 'retain'` keeps the
 * table when the stage is removed.
 */
import type { InfraConfig } from './config.ts'
import { STATE_TABLE_SCHEMA } from './contracts.ts'

export function createStateTable(config: InfraConfig) {
  return new sst.aws.Dynamo('State', {
    fields: STATE_TABLE_SCHEMA.fields,
    primaryIndex: STATE_TABLE_SCHEMA.primaryIndex,
    ttl: STATE_TABLE_SCHEMA.ttl,
    deletionProtection: config.production,
    transform: {
      table: {
        // sst.aws.Dynamo's default too; stated because CA records and counters must survive a bad write.
        pointInTimeRecovery: { enabled: true },
        tags: { 'credbroker:stage': config.stage },
      },
    },
  })
}
