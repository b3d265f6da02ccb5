import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  AccessDeniedError,
  AlreadyExistsError,
  BadRequestError,
  InvalidConfigError,
  InvalidResourceError,
  isBrokerError,
  NotFoundError,
  RevisionMismatchError,
  StoreUnavailableError,
  TooLargeError,
} from '../../lib/errors.ts'

describe('errors', () => {
  const table: Array<[Error & { code: string; status: number }, string, number]> = [
    [new BadRequestError('x'), 'ERR_BAD_REQUEST', 400],
    [new InvalidResourceError('spec.allow', 'x'), 'ERR_INVALID_RESOURCE', 400],
    [new InvalidConfigError('AWS_REGION', 'x'), 'ERR_INVALID_CONFIG', 500],
    [new TooLargeError('x'), 'ERR_TOO_LARGE', 413],
    [new NotFoundError('x'), 'ERR_NOT_FOUND', 404],
    [new AlreadyExistsError('x'), 'ERR_ALREADY_EXISTS', 409],
    [new RevisionMismatchError('x'), 'ERR_REVISION_MISMATCH', 409],
    [new AccessDeniedError('x'), 'ERR_ACCESS_DENIED', 403],
    [new StoreUnavailableError('x'), 'ERR_STORE_UNAVAILABLE', 503],
  ]
  for (const [err, code, status] of table) {
    it(`${err.name} has code ${code} and status ${status}`, () => {
      assert.equal(err.code, code)
      assert.equal(err.status, status)
      assert.equal(err.name, err.constructor.name)
      assert.ok(isBrokerError(err))
    })
  }

  it('the caller-safe JSON view holds only code and message', () => {
    const err = new StoreUnavailableError('state store unavailable', {
      cause: new Error('socket hang up'),
      details: { table: 't' },
    })
    assert.deepEqual(JSON.parse(JSON.stringify(err)), {
      code: 'ERR_STORE_UNAVAILABLE',
      message: 'state store unavailable',
    })
    assert.equal((err.cause as Error).message, 'socket hang up')
  })

  it('field errors prefix the message with the field', () => {
    assert.equal(
      new InvalidResourceError('metadata.name', 'is required').message,
      'metadata.name: is required',
    )
    assert.equal(new InvalidResourceError('', 'not a document').message, 'not a document')
  })

  it('programmer errors are not broker errors', () => {
    assert.equal(isBrokerError(new TypeError('misuse')), false)
  })
})
