/**
 * The bot's signed, unsent `sts:GetCallerIdentity` request for the `iam` join: its exact shape,
 * the challenge bound into the signature, the session token only when there is one, the secret key
 * nowhere in the output, and a signature that an independent SigV4 computation reproduces.
 */
import assert from 'node:assert/strict'
import { createHash, createHmac } from 'node:crypto'
import { describe, it } from 'node:test'
import {
  type AwsCredentials,
  GET_CALLER_IDENTITY_BODY,
  IAM_CHALLENGE_HEADER,
  type SignedStsRequest,
  signGetCallerIdentity,
  stsRegion,
} from '../../../lib/bot/iam-signer.ts'
import { ManualClock } from '../../../lib/clock.ts'
import { ALLOWED_HEADERS } from '../../../lib/join/iam/sts-request.ts'

const AT = Date.UTC(2026, 10, 22, 12, 34, 56)
const CHALLENGE = 'q2dJ0c5Xw0ypZp0D8cFQ1m0b3nJ8mXcS7V1bC3XHc6k'
const USER_KEYS: AwsCredentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
}
const ROLE_KEYS: AwsCredentials = {
  accessKeyId: 'ASIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'c2VjcmV0LXJvbGUta2V5LW5ldmVyLWxlYWtlZA+EXAMPLE',
  sessionToken: 'FwoGZXIvYXdzEXAMPLESESSIONTOKEN//////////wEaDOXAMPLE',
}
/** The headers the auth service accepts in a forwarded STS request: the server's own list. */
const SERVER_ALLOWED_HEADERS = ALLOWED_HEADERS

const sign = (
  credentials: AwsCredentials,
  extra: { region?: string; stsHost?: string; challenge?: string } = {},
) =>
  signGetCallerIdentity({
    challenge: CHALLENGE,
    credentials: async () => credentials,
    clock: new ManualClock(AT),
    ...extra,
  })

function parseAuthorization(value: string | undefined) {
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/sts\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      value ?? '',
    )
  assert.ok(match, `not a SigV4 Authorization header: ${value}`)
  const [, accessKeyId, date, region, signedHeaders, signature] = match
  return { accessKeyId, date, region, signedHeaders: (signedHeaders ?? '').split(';'), signature }
}

/** SigV4 (header form) written out with node:crypto, to check the library's signature. */
function independentSignature(req: SignedStsRequest, credentials: AwsCredentials, region: string): string {
  const auth = parseAuthorization(req.headers.authorization)
  const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex')
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest()
  const canonicalHeaders = auth.signedHeaders.map((name) => `${name}:${req.headers[name]?.trim()}\n`).join('')
  const canonicalRequest = [
    req.method,
    new URL(req.url).pathname,
    '',
    canonicalHeaders,
    auth.signedHeaders.join(';'),
    sha256(req.body),
  ].join('\n')
  const amzDate = req.headers['x-amz-date'] ?? ''
  const day = amzDate.slice(0, 8)
  const scope = `${day}/${region}/sts/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n')
  const kDate = hmac(`AWS4${credentials.secretAccessKey}`, day)
  const kSigning = hmac(hmac(hmac(kDate, region), 'sts'), 'aws4_request')
  return createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest('hex')
}

describe('signGetCallerIdentity', () => {
  it('builds a header-signed POST to the regional STS endpoint with the exact body', async () => {
    const req = await sign(USER_KEYS)
    assert.equal(req.method, 'POST')
    assert.equal(req.url, 'https://sts.us-east-1.amazonaws.com/')
    assert.equal(req.body, 'Action=GetCallerIdentity&Version=2011-06-15')
    assert.equal(req.body, GET_CALLER_IDENTITY_BODY)
    assert.equal(req.headers.host, 'sts.us-east-1.amazonaws.com')
    assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded; charset=utf-8')
    assert.equal(req.headers.accept, 'application/json')
    assert.equal(req.headers['content-length'], String(Buffer.byteLength(req.body)))
    assert.equal(req.headers[IAM_CHALLENGE_HEADER], CHALLENGE)
    assert.equal(IAM_CHALLENGE_HEADER, 'x-credbroker-challenge')
    assert.ok(!new URL(req.url).search, 'no query string: never a presigned URL')
  })

  it('signs the challenge, host, date, content type and accept headers', async () => {
    const req = await sign(USER_KEYS)
    const auth = parseAuthorization(req.headers.authorization)
    for (const name of ['x-credbroker-challenge', 'host', 'x-amz-date', 'content-type', 'accept']) {
      assert.ok(auth.signedHeaders.includes(name), `${name} is signed (${auth.signedHeaders.join(';')})`)
    }
    assert.equal(auth.accessKeyId, USER_KEYS.accessKeyId)
    assert.equal(auth.region, 'us-east-1')
  })

  it('uses only lower-case header names the auth service accepts', async () => {
    for (const keys of [USER_KEYS, ROLE_KEYS]) {
      const req = await sign(keys)
      for (const name of Object.keys(req.headers)) {
        assert.equal(name, name.toLowerCase())
        assert.ok(SERVER_ALLOWED_HEADERS.has(name), `${name} is allowed by the server`)
      }
    }
  })

  it('sends x-amz-security-token, signed, exactly when the credentials have a session token', async () => {
    const withToken = await sign(ROLE_KEYS)
    assert.equal(withToken.headers['x-amz-security-token'], ROLE_KEYS.sessionToken)
    assert.ok(
      parseAuthorization(withToken.headers.authorization).signedHeaders.includes('x-amz-security-token'),
    )

    const without = await sign(USER_KEYS)
    assert.equal(without.headers['x-amz-security-token'], undefined)
    assert.ok(
      !parseAuthorization(without.headers.authorization).signedHeaders.includes('x-amz-security-token'),
    )
  })

  it('never puts the secret access key in its output', async () => {
    for (const keys of [USER_KEYS, ROLE_KEYS]) {
      const req = await sign(keys)
      const json = JSON.stringify(req)
      assert.ok(!json.includes(keys.secretAccessKey), 'secret key leaked into the signed request')
      assert.ok(!json.includes(encodeURIComponent(keys.secretAccessKey)))
      assert.deepEqual(Object.keys(req).sort(), ['body', 'headers', 'method', 'url'])
    }
  })

  it('dates the request with the injected clock', async () => {
    const req = await sign(USER_KEYS)
    assert.equal(req.headers['x-amz-date'], '20261122T123456Z')
    assert.equal(parseAuthorization(req.headers.authorization).date, '20261122')
  })

  it('produces a signature that re-signing and an independent SigV4 computation reproduce', async () => {
    for (const keys of [USER_KEYS, ROLE_KEYS]) {
      const first = await sign(keys)
      const again = await sign(keys)
      assert.equal(again.headers.authorization, first.headers.authorization)
      assert.equal(
        parseAuthorization(first.headers.authorization).signature,
        independentSignature(first, keys, 'us-east-1'),
      )
    }
  })

  it('binds the challenge and the secret into the signature', async () => {
    const base = parseAuthorization((await sign(USER_KEYS)).headers.authorization).signature
    const otherChallenge = await sign(USER_KEYS, { challenge: 'another-challenge' })
    assert.notEqual(parseAuthorization(otherChallenge.headers.authorization).signature, base)
    const wrongSecret = await sign({ ...USER_KEYS, secretAccessKey: 'not-the-secret' })
    assert.notEqual(parseAuthorization(wrongSecret.headers.authorization).signature, base)
    // Tampering with the signed challenge header breaks an otherwise valid signature.
    const tampered: SignedStsRequest = {
      ...otherChallenge,
      headers: { ...otherChallenge.headers, [IAM_CHALLENGE_HEADER]: CHALLENGE },
    }
    assert.notEqual(
      independentSignature(tampered, USER_KEYS, 'us-east-1'),
      parseAuthorization(otherChallenge.headers.authorization).signature,
    )
  })

  it('signs for the given region, and for another STS host only when asked', async () => {
    const regional = await sign(ROLE_KEYS, { region: 'eu-west-2' })
    assert.equal(regional.url, 'https://sts.eu-west-2.amazonaws.com/')
    assert.equal(regional.headers.host, 'sts.eu-west-2.amazonaws.com')
    assert.equal(parseAuthorization(regional.headers.authorization).region, 'eu-west-2')
    assert.equal(
      parseAuthorization(regional.headers.authorization).signature,
      independentSignature(regional, ROLE_KEYS, 'eu-west-2'),
    )

    const global = await sign(USER_KEYS, { stsHost: 'sts.amazonaws.com' })
    assert.equal(global.url, 'https://sts.amazonaws.com/')
    assert.equal(global.headers.host, 'sts.amazonaws.com')
  })

  it('resolves the region: explicit, then the fallbacks in order, then us-east-1', () => {
    assert.equal(stsRegion('eu-west-1', 'us-west-2'), 'eu-west-1')
    assert.equal(stsRegion(undefined, 'us-west-2', 'ap-south-1'), 'us-west-2')
    assert.equal(stsRegion('', undefined, 'ap-south-1'), 'ap-south-1')
    assert.equal(stsRegion(), 'us-east-1')
  })

  it('asks the credentials provider on every signature (no caching of its own)', async () => {
    let calls = 0
    const credentials = async () => {
      calls++
      return USER_KEYS
    }
    await signGetCallerIdentity({ challenge: CHALLENGE, credentials })
    await signGetCallerIdentity({ challenge: CHALLENGE, credentials })
    assert.equal(calls, 2)
  })

  it('refuses a malformed region, host or challenge', async () => {
    await assert.rejects(sign(USER_KEYS, { region: 'us-east-1.evil.example' }), TypeError)
    await assert.rejects(sign(USER_KEYS, { stsHost: 'sts.amazonaws.com/evil' }), TypeError)
    await assert.rejects(sign(USER_KEYS, { challenge: '' }), TypeError)
    await assert.rejects(sign(USER_KEYS, { challenge: 'a\r\nx-injected: 1' }), TypeError)
  })
})
