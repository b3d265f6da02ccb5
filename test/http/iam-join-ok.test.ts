import assert from 'node:assert/strict'
import { createHash, X509Certificate } from 'node:crypto'
import { beforeEach, describe, it } from 'node:test'
import type { IssueResponse } from '../../lib/auth/issue-response.ts'
import { decodeIdentity } from '../../lib/identity/x509-encoding.ts'
import { BASE_URL, newKey } from '../helpers/auth-harness.ts'
import {
  ACCOUNT,
  ARN,
  type IamHarness,
  iamHarness,
  STS_HOST,
  type StsRequestBody,
  signedStsRequest,
  TOKEN,
  xmlIdentity,
} from '../helpers/iam-harness.ts'

async function post(h: IamHarness, path: string, body: unknown) {
  const res = await h.fetch(`${BASE_URL}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

async function challenge(h: IamHarness): Promise<string> {
  return (await post(h, '/v1/join/iam/challenge', { token: TOKEN })).json.challenge as string
}

async function iamJoin(h: IamHarness, options: { host?: string; ttl?: number; publicPem?: string } = {}) {
  const sts = await signedStsRequest(
    await challenge(h),
    h.clock.now(),
    options.host ? { host: options.host } : {},
  )
  return body(options.publicPem ?? newKey().publicPem, sts, options.ttl ?? 3600)
}

function body(public_key: string, sts_request: StsRequestBody, ttl_seconds: number) {
  return { token: TOKEN, public_key, ttl_seconds, sts_request }
}

describe('iam join', () => {
  let h: IamHarness
  beforeEach(async () => {
    h = await iamHarness(['sts.vpce.example.internal'])
  })

  it('ok/a challenge is 32 random bytes, stored by hash for 5 minutes', async () => {
    const res = await post(h, '/v1/join/iam/challenge', { token: TOKEN })
    assert.equal(res.status, 200)
    const value = res.json.challenge as string
    assert.equal(Buffer.from(value, 'base64url').length, 32)
    assert.equal(res.json.expires, new Date(h.clock.now().getTime() + 5 * 60_000).toISOString())
    const item = await h.store.get(`iam_challenge/${createHash('sha256').update(value).digest('hex')}`)
    assert.deepEqual(JSON.parse(item?.value ?? '{}'), { token: TOKEN })
  })

  it('ok/JSON answer: a non-renewable bot identity, a new instance with the join history', async () => {
    const res = await post(h, '/v1/join/iam', await iamJoin(h))
    assert.equal(res.status, 200, JSON.stringify(res.json))
    const issued = res.json as unknown as IssueResponse
    assert.deepEqual(issued.identity.roles, ['bot-example'])
    assert.equal(issued.identity.user, 'bot-example')
    assert.equal(issued.identity.renewable, false)
    assert.equal(issued.identity.generation, 0)
    const id = decodeIdentity(new X509Certificate(issued.tls_cert).raw)
    assert.equal(id.renewable, false)
    const instance = await h.service.deps.resources.get(
      'bot_instance',
      `example/${issued.identity.bot_instance_id}`,
    )
    const auth = instance.status.latest_authentications[0]
    assert.equal(auth?.join_method, 'iam')
    assert.equal(auth?.join_token, TOKEN)
    assert.equal(auth?.aws_account, ACCOUNT)
    assert.equal(auth?.aws_arn, ARN)
    // The server sent exactly the signed request, to the signed host.
    const [call] = h.transport.calls
    assert.equal(call?.url, `https://${STS_HOST}/`)
    assert.equal(call?.headers.host, STS_HOST)
    assert.equal(call?.body, 'Action=GetCallerIdentity&Version=2011-06-15')
    const audits = (await h.store.list('audit/')).items.map(
      (i) => JSON.parse(i.value) as Record<string, unknown>,
    )
    assert.ok(
      audits.some(
        (e) => e.type === 'bot.join' && e.success === true && e.method === 'iam' && e.aws_arn === ARN,
      ),
    )
  })

  it('ok/XML answer (moto style) is read too', async () => {
    h.transport.respond = async () => xmlIdentity()
    const res = await post(h, '/v1/join/iam', await iamJoin(h))
    assert.equal(res.status, 200, JSON.stringify(res.json))
  })

  it('ok/the TTL is clamped to the server maximum', async () => {
    const res = await post(h, '/v1/join/iam', await iamJoin(h, { ttl: 7 * 24 * 3600 }))
    const notAfter = Date.parse((res.json as unknown as IssueResponse).not_after)
    assert.equal(notAfter - h.clock.now().getTime(), h.service.deps.limits.maxRenewableTtlMs)
  })

  for (const host of [
    'sts.amazonaws.com',
    'STS.EU-WEST-1.AMAZONAWS.COM',
    'sts-fips.us-gov-west-1.amazonaws.com',
    'sts.cn-north-1.amazonaws.com.cn',
    'sts.vpce.example.internal',
  ]) {
    it(`ok/host ${host} is accepted`, async () => {
      const res = await post(h, '/v1/join/iam', await iamJoin(h, { host }))
      assert.equal(res.status, 200, JSON.stringify(res.json))
    })
  }

  it('ok/re-join with PoP of a valid identity keeps the bot instance', async () => {
    const kp = newKey()
    const first = (await post(h, '/v1/join/iam', await iamJoin(h, { publicPem: kp.publicPem })))
      .json as unknown as IssueResponse
    h.clock.advance(30 * 60_000)
    const next = newKey()
    const second = await h.client.request<IssueResponse>(
      { key: kp.key, tlsCertPem: first.tls_cert },
      'POST',
      '/v1/join/iam',
      await iamJoin(h, { publicPem: next.publicPem }),
    )
    assert.equal(second.identity.bot_instance_id, first.identity.bot_instance_id)
    const instance = await h.service.deps.resources.get(
      'bot_instance',
      `example/${first.identity.bot_instance_id}`,
    )
    assert.equal(instance.status.latest_authentications.length, 2)
    assert.equal(
      (await h.service.deps.resources.list('bot_instance', { prefix: 'example/' })).items.length,
      1,
    )
  })

  it('ok/re-join without PoP, or with an expired identity, creates a new instance', async () => {
    const kp = newKey()
    const first = (await post(h, '/v1/join/iam', await iamJoin(h, { publicPem: kp.publicPem })))
      .json as unknown as IssueResponse
    const second = (await post(h, '/v1/join/iam', await iamJoin(h))).json as unknown as IssueResponse
    assert.notEqual(second.identity.bot_instance_id, first.identity.bot_instance_id)
    h.clock.advance(2 * 3600_000)
    const third = await h.client.request<IssueResponse>(
      { key: kp.key, tlsCertPem: first.tls_cert },
      'POST',
      '/v1/join/iam',
      await iamJoin(h),
    )
    assert.notEqual(third.identity.bot_instance_id, first.identity.bot_instance_id)
  })
})
