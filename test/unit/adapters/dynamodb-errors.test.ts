import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  ConditionalCheckFailedException,
  InternalServerError,
  ItemCollectionSizeLimitExceededException,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ResourceNotFoundException,
  ThrottlingException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb'
import { translateDynamoDbError } from '../../../lib/adapters/dynamodb/errors.ts'
import { AlreadyExistsError, NotFoundError, RevisionMismatchError } from '../../../lib/errors.ts'

const TABLE = 'credbroker-state'
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
const $metadata = { httpStatusCode: 400, requestId: 'REQ1' }

/** An error as the SDK's deserialiser builds it for a service exception it has no class for. */
function serviceError(name: string, message: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode } })
}

/** A Node socket error: `name` is plain `Error`, the cause is in `code`. */
function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:8000`), { code, $metadata: {} })
}

interface Case {
  name: string
  error: unknown
  code: string
  status: number
  /** A fragment the caller-safe message must contain. */
  message?: RegExp
}

const cases: Case[] = [
  {
    name: 'throttled/ProvisionedThroughputExceededException',
    error: new ProvisionedThroughputExceededException({ message: 'rate exceeded', $metadata }),
    code: 'ERR_THROTTLED',
    status: 429,
  },
  {
    name: 'throttled/ThrottlingException',
    error: new ThrottlingException({ message: 'slow down', $metadata }),
    code: 'ERR_THROTTLED',
    status: 429,
  },
  {
    name: 'throttled/RequestLimitExceeded',
    error: new RequestLimitExceeded({ message: 'account limit', $metadata }),
    code: 'ERR_THROTTLED',
    status: 429,
  },
  {
    name: 'throttled/unparsed HTTP 429',
    error: serviceError('SyntaxError', 'Unexpected token <', 429),
    code: 'ERR_THROTTLED',
    status: 429,
  },
  {
    name: 'unavailable/table missing names the table',
    error: new ResourceNotFoundException({ message: 'Requested resource not found', $metadata }),
    code: 'ERR_STORE_UNAVAILABLE',
    status: 503,
    message: /"credbroker-state" does not exist/,
  },
  {
    name: 'too large/ItemCollectionSizeLimitExceededException',
    error: new ItemCollectionSizeLimitExceededException({ message: 'collection too big', $metadata }),
    code: 'ERR_TOO_LARGE',
    status: 413,
  },
  {
    name: 'too large/ValidationException about item size',
    error: serviceError('ValidationException', 'Item size has exceeded the maximum allowed size'),
    code: 'ERR_TOO_LARGE',
    status: 413,
  },
  {
    name: 'unavailable/other ValidationException',
    error: serviceError('ValidationException', 'One or more parameter values were invalid'),
    code: 'ERR_STORE_UNAVAILABLE',
    status: 503,
  },
  {
    name: 'unavailable/InternalServerError',
    error: new InternalServerError({ message: 'oops', $metadata: { httpStatusCode: 500 } }),
    code: 'ERR_STORE_UNAVAILABLE',
    status: 503,
    message: /unavailable/,
  },
  {
    name: 'unavailable/ServiceUnavailable',
    error: serviceError('ServiceUnavailable', 'try again', 503),
    code: 'ERR_STORE_UNAVAILABLE',
    status: 503,
  },
  {
    name: 'unavailable/SDK TimeoutError',
    error: serviceError('TimeoutError', 'socket timed out'),
    code: 'ERR_STORE_UNAVAILABLE',
    status: 503,
  },
  {
    name: 'unavailable/ECONNREFUSED',
    error: socketError('ECONNREFUSED'),
    code: 'ERR_STORE_UNAVAILABLE',
    status: 503,
    message: /unavailable/,
  },
  {
    name: 'unavailable/ECONNRESET',
    error: socketError('ECONNRESET'),
    code: 'ERR_STORE_UNAVAILABLE',
    status: 503,
  },
  ...['AccessDeniedException', 'UnrecognizedClientException', 'InvalidSignatureException'].map(
    (name): Case => ({
      name: `denied/${name}`,
      error: serviceError(name, `The request signature for ${SECRET} is wrong`, 400),
      code: 'ERR_STORE_UNAVAILABLE',
      status: 503,
      message: /access .* was denied/,
    }),
  ),
  {
    // moto answers auth failures in XML on this JSON protocol: the SDK only knows the status.
    name: 'denied/unparsed HTTP 403',
    error: serviceError('SyntaxError', 'Unexpected token < in JSON', 403),
    code: 'ERR_STORE_UNAVAILABLE',
    status: 503,
    message: /access .* was denied/,
  },
  {
    name: 'unavailable/unknown SDK exception',
    error: new TransactionConflictException({ message: 'conflict', $metadata }),
    code: 'ERR_STORE_UNAVAILABLE',
    status: 503,
  },
  {
    name: 'unavailable/not an Error at all',
    error: 'boom',
    code: 'ERR_STORE_UNAVAILABLE',
    status: 503,
  },
  {
    name: 'unavailable/condition failure without a caller mapping',
    error: new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata }),
    code: 'ERR_STORE_UNAVAILABLE',
    status: 503,
  },
]

describe('translateDynamoDbError', () => {
  for (const c of cases) {
    it(c.name, () => {
      const err = translateDynamoDbError(c.error, { tableName: TABLE })
      assert.equal(err.code, c.code)
      assert.equal(err.status, c.status)
      assert.equal(err.cause, c.error, 'the SDK error is kept as cause')
      if (c.message) assert.match(err.message, c.message)
      assert.ok(!err.message.includes(SECRET), 'AWS text never reaches the message')
      assert.ok(!JSON.stringify(err.toJSON()).includes(SECRET))
    })
  }

  describe('a failed condition becomes the error the operation chose', () => {
    const failed = new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata,
    })
    for (const [name, make, code, status] of [
      ['create', () => new AlreadyExistsError('exists'), 'ERR_ALREADY_EXISTS', 409],
      ['compareAndSwap', () => new RevisionMismatchError('stale'), 'ERR_REVISION_MISMATCH', 409],
      ['delete', () => new NotFoundError('gone'), 'ERR_NOT_FOUND', 404],
    ] as const) {
      it(`ok/${name} → ${code}`, () => {
        const err = translateDynamoDbError(failed, { tableName: TABLE, conditionFailed: make })
        assert.equal(err.code, code)
        assert.equal(err.status, status)
      })
    }
  })

  it('ok/details carry the AWS error name, status and request id for the logs', () => {
    const err = translateDynamoDbError(
      new ProvisionedThroughputExceededException({ message: 'x', $metadata }),
      { tableName: TABLE },
    )
    assert.deepEqual(err.details, {
      awsErrorName: 'ProvisionedThroughputExceededException',
      httpStatus: 400,
      requestId: 'REQ1',
    })
  })

  it('ok/a socket error is logged by its code', () => {
    const err = translateDynamoDbError(socketError('ECONNREFUSED'), { tableName: TABLE })
    assert.deepEqual(err.details, { awsErrorName: 'ECONNREFUSED' })
  })

  it('ok/a domain error passes through unchanged', () => {
    const original = new NotFoundError('no item')
    assert.equal(translateDynamoDbError(original, { tableName: TABLE }), original)
  })
})
