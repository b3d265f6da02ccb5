import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  InternalServiceError,
  LimitExceededException,
  ResourceExistsException,
  ResourceNotFoundException,
} from '@aws-sdk/client-secrets-manager'
import { awsErrorName } from '../../../lib/adapters/aws-errors.ts'
import { translateSecretsManagerError } from '../../../lib/adapters/secrets-manager/errors.ts'
import { NotFoundError, RevisionMismatchError, TooLargeError } from '../../../lib/errors.ts'

const NAME = 'prod/ci-bot'
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
const $metadata = { httpStatusCode: 400, requestId: 'REQ1' }

function serviceError(name: string, message: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode } })
}

function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5000`), { code, $metadata: {} })
}

const cases: { name: string; error: unknown; code: string; status: number; message?: RegExp }[] = [
  {
    name: 'ThrottlingException',
    error: serviceError('ThrottlingException', 'Rate exceeded'),
    code: 'ERR_THROTTLED',
    status: 429,
  },
  {
    name: 'TooManyRequestsException',
    error: serviceError('TooManyRequestsException', 'slow down'),
    code: 'ERR_THROTTLED',
    status: 429,
  },
  {
    name: 'LimitExceededException (version quota)',
    error: new LimitExceededException({ message: 'too many versions', $metadata }),
    code: 'ERR_THROTTLED',
    status: 429,
    message: /quota/,
  },
  {
    name: 'AccessDeniedException naming the principal',
    error: serviceError(
      'AccessDeniedException',
      `User arn:aws:iam::1:user/x (key ${SECRET}) is not authorized`,
      400,
    ),
    code: 'ERR_UPSTREAM_UNAVAILABLE',
    status: 503,
    message: /access to Secrets Manager secret "prod\/ci-bot" was denied/,
  },
  {
    name: 'UnrecognizedClientException',
    error: serviceError('UnrecognizedClientException', 'bad token'),
    code: 'ERR_UPSTREAM_UNAVAILABLE',
    status: 503,
    message: /was denied/,
  },
  {
    name: "moto's XML auth failure: a SyntaxError with HTTP 403",
    error: Object.assign(new SyntaxError('Unexpected token <'), { $metadata: { httpStatusCode: 403 } }),
    code: 'ERR_UPSTREAM_UNAVAILABLE',
    status: 503,
    message: /was denied/,
  },
  {
    name: 'an unparsable body with HTTP 429',
    error: Object.assign(new SyntaxError('x'), { $metadata: { httpStatusCode: 429 } }),
    code: 'ERR_THROTTLED',
    status: 429,
  },
  {
    name: 'ResourceNotFoundException without a context',
    error: new ResourceNotFoundException({ message: 'nope', $metadata }),
    code: 'ERR_UPSTREAM_UNAVAILABLE',
    status: 503,
    message: /does not exist/,
  },
  {
    name: 'ResourceExistsException without a context',
    error: new ResourceExistsException({ message: 'exists', $metadata }),
    code: 'ERR_ALREADY_EXISTS',
    status: 409,
  },
  {
    name: 'EncryptionFailure',
    error: serviceError('EncryptionFailure', 'kms'),
    code: 'ERR_INVALID_CONFIG',
    status: 500,
    message: /^kmsKeyId: .*KMS key/,
  },
  {
    name: 'MalformedPolicyDocumentException',
    error: serviceError('MalformedPolicyDocumentException', 'bad principal'),
    code: 'ERR_INVALID_CONFIG',
    status: 500,
    message: /^readers: /,
  },
  {
    name: 'InvalidRequestException (scheduled for deletion)',
    error: serviceError('InvalidRequestException', 'marked deleted'),
    code: 'ERR_INVALID_CONFIG',
    status: 500,
    message: /^name: .*scheduled for deletion/,
  },
  {
    name: 'InternalServiceError',
    error: new InternalServiceError({ message: 'boom', $metadata: { httpStatusCode: 500 } }),
    code: 'ERR_UPSTREAM_UNAVAILABLE',
    status: 503,
    message: /is unavailable/,
  },
  { name: 'ECONNREFUSED', error: socketError('ECONNREFUSED'), code: 'ERR_UPSTREAM_UNAVAILABLE', status: 503 },
  { name: 'a non-error value', error: 'weird', code: 'ERR_UPSTREAM_UNAVAILABLE', status: 503 },
]

describe('translateSecretsManagerError', () => {
  for (const c of cases) {
    it(`ok/${c.name} → ${c.code}`, () => {
      const err = translateSecretsManagerError(c.error, { secretName: NAME })
      assert.equal(err.code, c.code)
      assert.equal(err.status, c.status)
      if (c.message) assert.match(err.message, c.message)
      assert.ok(!err.message.includes(SECRET), 'no credentials in the message')
      assert.ok(!JSON.stringify(err).includes(SECRET), 'no credentials in the JSON view')
      assert.equal(err.cause, c.error)
    })
  }

  it('ok/the context decides what not-found and exists mean', () => {
    const notFound = new NotFoundError('gone')
    const conflict = new RevisionMismatchError('conflict')
    const ctx = { secretName: NAME, notFound: () => notFound, exists: () => conflict }
    assert.equal(
      translateSecretsManagerError(new ResourceNotFoundException({ message: 'x', $metadata }), ctx),
      notFound,
    )
    assert.equal(
      translateSecretsManagerError(new ResourceExistsException({ message: 'x', $metadata }), ctx),
      conflict,
    )
  })

  it('ok/domain errors pass through; details hold the AWS name, status and request id', () => {
    const mine = new TooLargeError('big')
    assert.equal(translateSecretsManagerError(mine, { secretName: NAME }), mine)
    const err = translateSecretsManagerError(serviceError('ThrottlingException', 'x', 400), {
      secretName: NAME,
    })
    assert.deepEqual(err.details, { secretName: NAME, awsErrorName: 'ThrottlingException', httpStatus: 400 })
    const withId = translateSecretsManagerError(new LimitExceededException({ message: 'x', $metadata }), {
      secretName: NAME,
    })
    assert.equal(withId.details?.requestId, 'REQ1')
  })

  it('ok/awsErrorName prefers the name, then a socket code', () => {
    assert.equal(awsErrorName(serviceError('ResourceExistsException', 'x')), 'ResourceExistsException')
    assert.equal(awsErrorName(socketError('ECONNRESET')), 'ECONNRESET')
    assert.equal(awsErrorName(42), undefined)
  })
})
