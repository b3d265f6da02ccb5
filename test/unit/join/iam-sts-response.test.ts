import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { anyRuleMatches } from '../../../lib/join/iam/allow-rules.ts'
import { parseStsResponse } from '../../../lib/join/iam/sts-response.ts'

const enc = (s: string) => new TextEncoder().encode(s)
const ACCOUNT = '123456789012'
const ARN = 'arn:aws:sts::123456789012:assumed-role/ci/i-1'
const xml = (inner: string, root = 'GetCallerIdentityResponse') =>
  `<?xml version="1.0"?>\n<${root} xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>${inner}</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></${root}>`
const good = `<UserId>AROA:x</UserId><Account>${ACCOUNT}</Account><Arn>${ARN}</Arn>`

describe('STS response', () => {
  it('ok/JSON and XML', () => {
    const json = JSON.stringify({
      GetCallerIdentityResponse: { GetCallerIdentityResult: { Account: ACCOUNT, Arn: ARN } },
    })
    assert.deepEqual(parseStsResponse(200, enc(json)), { account: ACCOUNT, arn: ARN })
    assert.deepEqual(parseStsResponse(200, enc(xml(good))), { account: ACCOUNT, arn: ARN })
  })

  it('fail/non-200 is ERR_IAM_STS_REJECTED', () => {
    assert.throws(() => parseStsResponse(403, enc(xml(good))), { code: 'ERR_IAM_STS_REJECTED' })
    assert.throws(() => parseStsResponse(301, enc('')), { code: 'ERR_IAM_STS_REJECTED' })
  })

  it('fail/unreadable answers are ERR_IAM_STS_INVALID_RESPONSE', () => {
    for (const body of [
      'garbage',
      '{"GetCallerIdentityResponse":{}}',
      '{"GetCallerIdentityResponse":{"GetCallerIdentityResult":{"Account":123456789012,"Arn":"arn:x"}}}',
      xml(`${good}<Arn>${ARN}</Arn>`),
      xml(`${good}<Account>${ACCOUNT}</Account>`),
      xml(`<Account>${ACCOUNT}</Account>`),
      xml(good, 'AssumeRoleResponse'),
      `${xml(good)}${xml(good)}`,
      xml(`<Account>${ACCOUNT}</Account><Arn>arn:&amp;x</Arn>`),
      xml(`<Account>12345</Account><Arn>${ARN}</Arn>`),
      xml(`<Account>${ACCOUNT}</Account><Arn><![CDATA[${ARN}]]></Arn>`),
      `<!DOCTYPE x>${xml(good)}`,
    ])
      assert.throws(() => parseStsResponse(200, enc(body)), { code: 'ERR_IAM_STS_INVALID_RESPONSE' }, body)
    assert.throws(() => parseStsResponse(200, new Uint8Array([0xff, 0xfe])), {
      code: 'ERR_IAM_STS_INVALID_RESPONSE',
    })
  })
})

describe('allow rules', () => {
  const who = { account: ACCOUNT, arn: ARN }
  it('ok/AND within a rule, OR across rules, anchored globs with * and ?', () => {
    assert.equal(anyRuleMatches([{ aws_account: ACCOUNT }], who), true)
    assert.equal(anyRuleMatches([{ aws_arn: 'arn:aws:sts::*:assumed-role/ci/i-?' }], who), true)
    assert.equal(anyRuleMatches([{ aws_account: '999999999999' }, { aws_arn: ARN }], who), true)
  })
  it('fail/no rule matches', () => {
    assert.equal(anyRuleMatches([], who), false)
    assert.equal(anyRuleMatches([{}], who), false)
    assert.equal(
      anyRuleMatches([{ aws_account: ACCOUNT, aws_arn: 'arn:aws:sts::*:assumed-role/other/*' }], who),
      false,
    )
    assert.equal(anyRuleMatches([{ aws_arn: 'arn:aws:sts::*:assumed-role/ci' }], who), false)
    assert.equal(anyRuleMatches([{ aws_arn: 'arn:aws:sts::*:assumed-role/ci/i-??' }], who), false)
    assert.equal(anyRuleMatches([{ aws_arn: 'arn:aws:sts::123456789012:assumed-role/c.' }], who), false)
  })
})
