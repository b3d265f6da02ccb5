/**
 * The condition expressions that make the store's writes atomic. One key over time, `now` being the
 * injected clock (sent as `:now`):
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
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import type { BrokerError } from '../../errors.ts'
import { storeErrors } from '../store-contract.ts'
import { numberAttr } from './item.ts'

/** The item exists and has not expired at `:now` (see the timeline above). */
export const LIVE = '(attribute_not_exists(expires_ms) OR expires_ms > :now)'

/** A `ConditionExpression` and the domain error its failure means for the operation. */
export interface Condition {
  expression: string
  values: Record<string, AttributeValue>
  failed: () => BrokerError
}

/** `create`: the item is absent or expired; otherwise AlreadyExistsError. */
export function absentCondition(key: string, nowMs: number): Condition {
  return {
    expression: 'attribute_not_exists(pk) OR expires_ms <= :now',
    values: { ':now': numberAttr(nowMs) },
    failed: () => storeErrors.alreadyExists(key),
  }
}

/** `delete` without a revision: the item is live; otherwise NotFoundError. */
export function liveCondition(key: string, nowMs: number): Condition {
  return {
    expression: `attribute_exists(pk) AND ${LIVE}`,
    values: { ':now': numberAttr(nowMs) },
    failed: () => storeErrors.notFound(key),
  }
}

/** `compareAndSwap` and `delete(rev)`: the item is live at `revision`; otherwise RevisionMismatchError. */
export function revisionCondition(key: string, revision: string, nowMs: number): Condition {
  return {
    expression: `rev = :rev AND ${LIVE}`,
    values: { ':rev': { S: revision }, ':now': numberAttr(nowMs) },
    failed: () => storeErrors.revisionMismatch(key),
  }
}

/** The request fields that attach `condition` to a PutItem or DeleteItem. */
export function conditionInput(condition: Condition) {
  return { ConditionExpression: condition.expression, ExpressionAttributeValues: condition.values }
}
