import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isAllowedStsHost } from '../../../lib/join/iam/sts-hosts.ts'
import {
  checkAudienceSigned,
  checkChallengeSigned,
  checkStsHeaders,
  checkStsHost,
  checkStsUrl,
  parseSigV4Authorization,
} from '../../../lib/join/iam/sts-request.ts'

const code = (code: string) => ({ code })

describe('STS request checks', () => {
  it('ok/accepted STS hosts', () => {
    for (const host of [
      'sts.amazonaws.com',
      'sts.us-east-1.amazonaws.com',
      'sts-fips.us-west-2.amazonaws.com',
      'sts.us-gov-west-1.amazonaws.com',
      'sts.cn-northwest-1.amazonaws.com.cn',
      'STS.EU-WEST-1.AMAZONAWS.COM',
    ])
      assert.equal(isAllowedStsHost(host), true, host)
    assert.equal(isAllowedStsHost('sts.local.test', ['STS.local.test']), true)
  })

  it('fail/refused STS hosts', () => {
    for (const host of [
      'sts.amazonaws.com.evil.com',
      'evil-sts.amazonaws.com',
      'sts.us-east-1.amazonaws.com.',
      'sts.xx-fake-1.amazonaws.com',
      'sts.cn-north-1.amazonaws.com',
      'sts.us-east-1.amazonaws.com.cn',
      'sts-fips.amazonaws.com',
      'iam.amazonaws.com',
      '127.0.0.1',
      '::1',
      '[::1]',
      '',
    ])
      assert.equal(isAllowedStsHost(host), false, host)
  })

  it('ok/the URL https://<host>/ yields the host', () => {
    assert.equal(checkStsUrl('https://STS.amazonaws.com/'), 'sts.amazonaws.com')
  })

  it('fail/URL shapes', () => {
    for (const url of [
      'not a url',
      'http://sts.amazonaws.com/',
      'https://sts.amazonaws.com',
      'https://sts.amazonaws.com:443/',
      'https://sts.amazonaws.com:/',
      'https://a@sts.amazonaws.com/',
      'https://sts.amazonaws.com/?',
      'https://sts.amazonaws.com/#',
      'https://sts.amazonaws.com//',
      'https://sts.amazonaws.com/%2e/',
      'https://sts.amazonaws.com\\',
    ])
      assert.throws(() => checkStsUrl(url), code('ERR_IAM_BAD_URL'), url)
  })

  it('fail/hosts the URL parser would rewrite or that are IP literals', () => {
    assert.throws(
      () => checkStsHost(checkStsUrl('https://ſts.amazonaws.com/'), {}, []),
      code('ERR_IAM_BAD_HOST'),
    )
    assert.throws(() => checkStsHost(checkStsUrl('https://[::1]/'), {}, []), code('ERR_IAM_BAD_HOST'))
    assert.throws(() => checkStsHost(checkStsUrl('https://2130706433/'), {}, []), code('ERR_IAM_BAD_HOST'))
    assert.throws(() => checkStsHost('sts.amazonaws.com', { HOST: 'evil.com' }, []), code('ERR_IAM_BAD_HOST'))
  })

  it('fail/headers outside the allow-list, duplicated or too large', () => {
    assert.doesNotThrow(() => checkStsHeaders({ Host: 'x', 'X-Amz-Date': '1', 'content-length': '43' }))
    const refused: Record<string, string>[] = [
      { 'x-forwarded-for': '1' },
      { accept: 'a', Accept: 'b' },
      { 'user-agent': 'a'.repeat(8193) },
      { 'content-length': '44' },
      { accept: 'a\nb' },
      { 'bad name': 'x' },
    ]
    for (const headers of refused)
      assert.throws(
        () => checkStsHeaders(headers),
        code('ERR_IAM_BAD_HEADERS'),
        JSON.stringify(headers).slice(0, 80),
      )
  })

  it('ok/SigV4 Authorization parsing is strict', () => {
    const sig = 'a'.repeat(64)
    const good = `AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date;x-credbroker-challenge, Signature=${sig}`
    assert.deepEqual(parseSigV4Authorization(good)?.signedHeaders, [
      'host',
      'x-amz-date',
      'x-credbroker-challenge',
    ])
    assert.doesNotThrow(() => checkChallengeSigned({ Authorization: good }))
    for (const bad of [
      good.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA512'),
      good.replace('SignedHeaders=host;', 'SignedHeaders=host;;'),
      `${good}, Extra=1`,
      good.replace(sig, 'zz'),
      good.replace(', SignedHeaders', ',SignedHeaders=host, SignedHeaders'),
    ])
      assert.equal(parseSigV4Authorization(bad), undefined, bad)
    assert.throws(
      () => checkChallengeSigned({ authorization: good.replace(';x-credbroker-challenge', '') }),
      code('ERR_IAM_UNSIGNED_CHALLENGE'),
    )
    assert.throws(() => checkChallengeSigned({}), code('ERR_IAM_UNSIGNED_CHALLENGE'))
  })

  it('fail/the audience: missing, unsigned or another origin, each worded for the caller', () => {
    const sig = 'a'.repeat(64)
    const authorization = (signed: string) =>
      `AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/sts/aws4_request, SignedHeaders=${signed}, Signature=${sig}`
    const signed = authorization('host;x-credbroker-audience;x-credbroker-challenge')
    const join = {
      origin: 'https://auth.example.com',
      request: 'the signed join request',
      fix: "the bot's auth_server must be this auth service's public address",
    }
    const login = { origin: 'https://auth.example.com', request: 'the signed request' }
    for (const expected of [join, login])
      assert.doesNotThrow(() =>
        checkAudienceSigned(
          { authorization: signed, 'X-Credbroker-Audience': 'https://auth.example.com' },
          expected,
        ),
      )
    const refusal = (headers: Record<string, string>, expected: typeof join | typeof login) => {
      try {
        checkAudienceSigned(headers, expected)
      } catch (err) {
        const { code, message } = err as { code: string; message: string }
        return { code, message }
      }
      return assert.fail('accepted')
    }
    const other = { authorization: signed, 'x-credbroker-audience': 'https://auth.staging.example' }
    assert.deepEqual(refusal(other, join), {
      code: 'ERR_IAM_BAD_HEADERS',
      message:
        'the signed join request names auth service "https://auth.staging.example"; this one is https://auth.example.com' +
        " (the bot's auth_server must be this auth service's public address)",
    })
    assert.deepEqual(refusal(other, login), {
      code: 'ERR_IAM_BAD_HEADERS',
      message:
        'the signed request names auth service "https://auth.staging.example"; this one is https://auth.example.com',
    })
    assert.deepEqual(refusal({ authorization: signed }, join), {
      code: 'ERR_IAM_BAD_HEADERS',
      message:
        'the signed join request does not name the auth service it is for (x-credbroker-audience); this one is https://auth.example.com' +
        " (the bot's auth_server must be this auth service's public address)",
    })
    const unsigned = {
      authorization: authorization('host;x-credbroker-challenge'),
      'x-credbroker-audience': 'https://auth.example.com',
    }
    assert.deepEqual(refusal(unsigned, join), {
      code: 'ERR_IAM_BAD_HEADERS',
      message: 'x-credbroker-audience is not in SignedHeaders',
    })
    // Same host, another scheme or port, or a URL rather than an origin: another audience.
    for (const value of [
      'http://auth.example.com',
      'https://auth.example.com:8443',
      'https://auth.example.com/',
    ])
      assert.equal(refusal({ ...other, 'x-credbroker-audience': value }, join).code, 'ERR_IAM_BAD_HEADERS')
  })
})
