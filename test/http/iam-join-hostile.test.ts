/**
 * Hostile input against `POST /v1/join/iam`, through the HTTP app with a fake STS transport.
 * Every refused case checks the error code, that no identity or bot instance was issued, whether
 * STS was called, that the refusal was audited, and that the challenge the request named cannot
 * be used again by an otherwise valid request.
 */
import assert from 'node:assert/strict'
import { beforeEach, describe, it } from 'node:test'
import type { IamJoinErrorCode } from '../../lib/errors.ts'
import { IamJoinError } from '../../lib/errors.ts'
import { BASE_URL, newKey } from '../helpers/auth-harness.ts'
import {
  ACCOUNT,
  AUDIENCE,
  createIamToken,
  type IamHarness,
  iamHarness,
  jsonIdentity,
  OTHER_TOKEN,
  type SignedStsOptions,
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

async function challengeFor(h: IamHarness, token = TOKEN): Promise<string> {
  const res = await post(h, '/v1/join/iam/challenge', { token })
  assert.equal(res.status, 200, JSON.stringify(res.json))
  return res.json.challenge as string
}

function joinBody(sts: StsRequestBody, token = TOKEN) {
  return { token, public_key: newKey().publicPem, ttl_seconds: 3600, sts_request: sts }
}

async function instanceCount(h: IamHarness): Promise<number> {
  return (await h.service.deps.resources.list('bot_instance', { prefix: 'example/' })).items.length
}

async function refusedAudits(h: IamHarness, code: string): Promise<number> {
  const page = await h.store.list('audit/')
  return page.items.filter((item) => {
    const event = JSON.parse(item.value) as { type: string; success: boolean; code?: string }
    return event.type === 'bot.join' && !event.success && event.code === code
  }).length
}

/** What a hostile case does; `named` is the challenge the hostile request named, if any. */
interface Hostile {
  readonly body: ReturnType<typeof joinBody>
  readonly named?: string
}

interface Case {
  readonly name: string
  readonly code: IamJoinErrorCode
  /** What the refusal's message must say, when the case checks it. */
  readonly message?: RegExp
  /** Whether the request got as far as STS. */
  readonly forwarded?: boolean
  readonly attempt: (h: IamHarness, challenge: string) => Promise<Hostile>
  /** Undo what the case broke (a lock, an expired token) so the replay is otherwise valid. */
  readonly restore?: (h: IamHarness) => Promise<void>
}

/** A request signed with the challenge, then changed by `edit`. */
function mutated(edit: (sts: StsRequestBody) => void, token = TOKEN) {
  return async (h: IamHarness, challenge: string): Promise<Hostile> => {
    const sts = await signedStsRequest(challenge, h.clock.now())
    edit(sts)
    return { body: joinBody(sts, token), named: challenge }
  }
}

function forHost(host: string) {
  return async (h: IamHarness, challenge: string): Promise<Hostile> => ({
    body: joinBody(await signedStsRequest(challenge, h.clock.now(), { host })),
    named: challenge,
  })
}

function signed(options: SignedStsOptions) {
  return async (h: IamHarness, challenge: string): Promise<Hostile> => ({
    body: joinBody(await signedStsRequest(challenge, h.clock.now(), options)),
    named: challenge,
  })
}

/** The fix every refused audience names. */
const AUTH_SERVER_FIX = "\\(the bot's auth_server must be this auth service's public address\\)$"

function stsAnswers(respond: () => Promise<{ status: number; body: Uint8Array }>) {
  return async (h: IamHarness, challenge: string): Promise<Hostile> => {
    h.transport.respond = respond
    return { body: joinBody(await signedStsRequest(challenge, h.clock.now())), named: challenge }
  }
}

const text = (s: string) => new TextEncoder().encode(s)

const cases: Case[] = [
  { name: 'foreign host', code: 'ERR_IAM_BAD_HOST', attempt: forHost('evil.example.com') },
  {
    name: 'look-alike sts.amazonaws.com.evil.com',
    code: 'ERR_IAM_BAD_HOST',
    attempt: forHost('sts.amazonaws.com.evil.com'),
  },
  {
    name: 'look-alike evil-sts.amazonaws.com',
    code: 'ERR_IAM_BAD_HOST',
    attempt: forHost('evil-sts.amazonaws.com'),
  },
  { name: 'trailing dot', code: 'ERR_IAM_BAD_HOST', attempt: forHost('sts.us-east-1.amazonaws.com.') },
  { name: 'unknown region', code: 'ERR_IAM_BAD_HOST', attempt: forHost('sts.xx-fake-1.amazonaws.com') },
  {
    name: 'cn region on the .com suffix',
    code: 'ERR_IAM_BAD_HOST',
    attempt: forHost('sts.cn-north-1.amazonaws.com'),
  },
  { name: 'IPv4 literal', code: 'ERR_IAM_BAD_HOST', attempt: forHost('169.254.169.254') },
  {
    name: 'IPv6 literal',
    code: 'ERR_IAM_BAD_HOST',
    attempt: mutated((s) => {
      s.url = 'https://[::1]/'
      s.headers.host = '[::1]'
    }),
  },
  {
    name: 'http scheme',
    code: 'ERR_IAM_BAD_URL',
    attempt: mutated((s) => {
      s.url = 'http://sts.us-east-1.amazonaws.com/'
    }),
  },
  {
    name: 'userinfo',
    code: 'ERR_IAM_BAD_URL',
    attempt: mutated((s) => {
      s.url = 'https://u:p@sts.us-east-1.amazonaws.com/'
    }),
  },
  {
    name: 'explicit default port',
    code: 'ERR_IAM_BAD_URL',
    attempt: mutated((s) => {
      s.url = 'https://sts.us-east-1.amazonaws.com:443/'
    }),
  },
  {
    name: 'explicit other port',
    code: 'ERR_IAM_BAD_URL',
    attempt: mutated((s) => {
      s.url = 'https://sts.us-east-1.amazonaws.com:8443/'
    }),
  },
  {
    name: 'query string',
    code: 'ERR_IAM_BAD_URL',
    attempt: mutated((s) => {
      s.url = 'https://sts.us-east-1.amazonaws.com/?Action=AssumeRole'
    }),
  },
  {
    name: 'empty query',
    code: 'ERR_IAM_BAD_URL',
    attempt: mutated((s) => {
      s.url = 'https://sts.us-east-1.amazonaws.com/?'
    }),
  },
  {
    name: 'other path',
    code: 'ERR_IAM_BAD_URL',
    attempt: mutated((s) => {
      s.url = 'https://sts.us-east-1.amazonaws.com/x'
    }),
  },
  {
    name: 'dot segment path',
    code: 'ERR_IAM_BAD_URL',
    attempt: mutated((s) => {
      s.url = 'https://sts.us-east-1.amazonaws.com/./'
    }),
  },
  {
    name: 'fragment',
    code: 'ERR_IAM_BAD_URL',
    attempt: mutated((s) => {
      s.url = 'https://sts.us-east-1.amazonaws.com/#x'
    }),
  },
  {
    name: 'Host header differs from URL host',
    code: 'ERR_IAM_BAD_HOST',
    attempt: mutated((s) => {
      s.headers.host = 'sts.us-west-2.amazonaws.com'
    }),
  },
  {
    name: 'GET',
    code: 'ERR_IAM_BAD_METHOD',
    attempt: mutated((s) => {
      s.method = 'GET'
    }),
  },
  {
    name: 'lower-case post',
    code: 'ERR_IAM_BAD_METHOD',
    attempt: mutated((s) => {
      s.method = 'post'
    }),
  },
  {
    name: 'other STS action',
    code: 'ERR_IAM_BAD_BODY',
    attempt: mutated((s) => {
      s.body = 'Action=AssumeRole&Version=2011-06-15&RoleArn=x&RoleSessionName=y'
    }),
  },
  {
    name: 'extra body parameter',
    code: 'ERR_IAM_BAD_BODY',
    attempt: mutated((s) => {
      s.body += '&Foo=bar'
    }),
  },
  {
    name: 'disallowed header',
    code: 'ERR_IAM_BAD_HEADERS',
    attempt: mutated((s) => {
      s.headers['x-forwarded-for'] = '10.0.0.1'
    }),
  },
  {
    name: 'oversized header value',
    code: 'ERR_IAM_BAD_HEADERS',
    attempt: mutated((s) => {
      s.headers['user-agent'] = 'a'.repeat(8 * 1024 + 1)
    }),
  },
  {
    name: 'headers too large in total',
    code: 'ERR_IAM_BAD_HEADERS',
    attempt: mutated((s) => {
      for (const name of ['user-agent', 'x-amz-user-agent', 'amz-sdk-request'])
        s.headers[name] = 'a'.repeat(7000)
    }),
  },
  {
    name: 'duplicate header',
    code: 'ERR_IAM_BAD_HEADERS',
    attempt: mutated((s) => {
      s.headers.Accept = 'text/xml'
    }),
  },
  {
    name: 'CRLF in a header value',
    code: 'ERR_IAM_BAD_HEADERS',
    attempt: mutated((s) => {
      s.headers.accept = 'a\r\nx-evil: 1'
    }),
  },
  {
    name: 'lying Content-Length',
    code: 'ERR_IAM_BAD_HEADERS',
    attempt: mutated((s) => {
      s.headers['content-length'] = '4'
    }),
  },
  {
    name: 'unsigned challenge',
    code: 'ERR_IAM_UNSIGNED_CHALLENGE',
    attempt: async (h, challenge) => ({
      body: joinBody(await signedStsRequest(challenge, h.clock.now(), { unsigned: true })),
      named: challenge,
    }),
  },
  {
    name: 'join signed for another auth service',
    code: 'ERR_IAM_BAD_HEADERS',
    message: new RegExp(
      `^the signed join request names auth service "https://auth\\.staging\\.example"; this one is ${AUDIENCE} ${AUTH_SERVER_FIX}`,
    ),
    attempt: signed({ audience: 'https://auth.staging.example' }),
  },
  {
    name: 'join signed for the same host over https',
    code: 'ERR_IAM_BAD_HEADERS',
    attempt: signed({ audience: 'https://auth.test' }),
  },
  {
    name: 'join signed for the same host on another port',
    code: 'ERR_IAM_BAD_HEADERS',
    attempt: signed({ audience: 'http://auth.test:8080' }),
  },
  {
    name: 'join signed for a URL rather than an origin',
    code: 'ERR_IAM_BAD_HEADERS',
    attempt: signed({ audience: `${AUDIENCE}/` }),
  },
  {
    name: 'no audience header',
    code: 'ERR_IAM_BAD_HEADERS',
    message: new RegExp(
      `^the signed join request does not name the auth service it is for \\(x-credbroker-audience\\); this one is ${AUDIENCE} ${AUTH_SERVER_FIX}`,
    ),
    attempt: signed({ audience: null }),
  },
  {
    name: 'audience header present but not signed',
    code: 'ERR_IAM_BAD_HEADERS',
    message: /^x-credbroker-audience is not in SignedHeaders$/,
    attempt: signed({ unsignedAudience: true }),
  },
  {
    name: 'Authorization header that is not SigV4',
    code: 'ERR_IAM_UNSIGNED_CHALLENGE',
    attempt: mutated((s) => {
      s.headers.authorization = 'Bearer x-credbroker-challenge'
    }),
  },
  {
    name: 'wrong challenge',
    code: 'ERR_IAM_BAD_CHALLENGE',
    attempt: async (h) => {
      const wrong = Buffer.alloc(32, 7).toString('base64url')
      return { body: joinBody(await signedStsRequest(wrong, h.clock.now())), named: wrong }
    },
  },
  {
    name: 'expired challenge',
    code: 'ERR_IAM_BAD_CHALLENGE',
    attempt: async (h, challenge) => {
      h.clock.advance(5 * 60_000)
      return { body: joinBody(await signedStsRequest(challenge, h.clock.now())), named: challenge }
    },
  },
  {
    name: 'challenge issued for another token',
    code: 'ERR_IAM_BAD_CHALLENGE',
    attempt: mutated(() => {}, OTHER_TOKEN),
  },
  {
    name: 'token of the wrong join method',
    code: 'ERR_JOIN_METHOD_MISMATCH',
    attempt: async (h, challenge) => {
      await h.service.deps.resources.create({
        kind: 'token',
        version: 'v1',
        metadata: {
          name: 'secret-token',
          labels: {},
          expires: new Date(h.clock.now().getTime() + 3600_000).toISOString(),
        },
        spec: { join_method: 'token', bot_name: 'example', allow: [] },
      })
      return {
        body: joinBody(await signedStsRequest(challenge, h.clock.now()), 'secret-token'),
        named: challenge,
      }
    },
  },
  {
    name: 'expired token',
    code: 'ERR_JOIN_TOKEN_INVALID',
    attempt: async (h, challenge) => {
      await h.service.deps.resources.delete('token', TOKEN)
      await createIamToken(h.service, TOKEN, new Date(h.clock.now().getTime() + 60_000))
      h.clock.advance(60_000)
      return { body: joinBody(await signedStsRequest(challenge, h.clock.now())), named: challenge }
    },
    restore: (h) => createIamToken(h.service, TOKEN),
  },
  { name: 'unknown token', code: 'ERR_JOIN_TOKEN_INVALID', attempt: mutated(() => {}, 'no-such-token') },
  {
    name: 'locked token',
    code: 'ERR_JOIN_LOCKED',
    attempt: async (h, challenge) => {
      await lock(h, { join_token: TOKEN })
      return { body: joinBody(await signedStsRequest(challenge, h.clock.now())), named: challenge }
    },
    restore: unlock,
  },
  {
    name: 'locked bot role',
    code: 'ERR_JOIN_LOCKED',
    attempt: async (h, challenge) => {
      await lock(h, { role: 'bot-example' })
      return { body: joinBody(await signedStsRequest(challenge, h.clock.now())), named: challenge }
    },
    restore: unlock,
  },
  {
    name: 'STS 403',
    code: 'ERR_IAM_STS_REJECTED',
    forwarded: true,
    attempt: stsAnswers(async () => ({ status: 403, body: text('<ErrorResponse/>') })),
  },
  {
    name: 'STS redirect',
    code: 'ERR_IAM_STS_REJECTED',
    forwarded: true,
    attempt: stsAnswers(async () => ({ status: 302, body: text('') })),
  },
  {
    name: 'STS garbage body',
    code: 'ERR_IAM_STS_INVALID_RESPONSE',
    forwarded: true,
    attempt: stsAnswers(async () => ({ status: 200, body: text('hello {') })),
  },
  {
    name: 'STS 200 with two Arn elements',
    code: 'ERR_IAM_STS_INVALID_RESPONSE',
    forwarded: true,
    attempt: stsAnswers(async () =>
      xmlIdentity(
        ACCOUNT,
        'arn:aws:sts::123456789012:assumed-role/x/y',
        '<Arn>arn:aws:sts::123456789012:assumed-role/ci/z</Arn>',
      ),
    ),
  },
  {
    name: 'STS huge body',
    code: 'ERR_IAM_STS_INVALID_RESPONSE',
    forwarded: true,
    attempt: stsAnswers(async () => {
      throw new IamJoinError('ERR_IAM_STS_INVALID_RESPONSE', 'STS answered more than 65536 bytes')
    }),
  },
  {
    name: 'slow STS',
    code: 'ERR_IAM_STS_UNAVAILABLE',
    forwarded: true,
    attempt: stsAnswers(async () => {
      throw new IamJoinError('ERR_IAM_STS_UNAVAILABLE', 'STS did not answer within 10000 ms')
    }),
  },
  {
    name: 'transport failing with a foreign error',
    code: 'ERR_IAM_STS_UNAVAILABLE',
    forwarded: true,
    attempt: stsAnswers(async () => {
      throw new Error('ECONNRESET')
    }),
  },
  {
    name: 'ARN matching no rule',
    code: 'ERR_IAM_NOT_ALLOWED',
    forwarded: true,
    attempt: stsAnswers(async () => jsonIdentity(ACCOUNT, `arn:aws:sts::${ACCOUNT}:assumed-role/other/i-1`)),
  },
  {
    name: 'account matching no rule',
    code: 'ERR_IAM_NOT_ALLOWED',
    forwarded: true,
    attempt: stsAnswers(async () =>
      jsonIdentity('999999999999', 'arn:aws:sts::999999999999:assumed-role/ci/i-1'),
    ),
  },
]

async function lock(h: IamHarness, target: Record<string, string>) {
  await h.service.deps.resources.create({
    kind: 'lock',
    version: 'v1',
    metadata: { name: 'hostile', labels: {} },
    spec: { target, message: 'under investigation' },
  })
}

async function unlock(h: IamHarness) {
  await h.service.deps.resources.delete('lock', 'hostile')
}

describe('iam join: hostile input', () => {
  let h: IamHarness
  beforeEach(async () => {
    h = await iamHarness()
  })

  for (const c of cases) {
    it(`fail/${c.name} → ${c.code}`, async () => {
      const challenge = await challengeFor(h)
      const hostile = await c.attempt(h, challenge)
      const res = await post(h, '/v1/join/iam', hostile.body)
      assert.equal(res.json.code, c.code, JSON.stringify(res.json))
      if (c.message) assert.match(String(res.json.message), c.message)
      assert.equal(res.json.tls_cert, undefined)
      assert.equal(await instanceCount(h), 0, 'no bot instance may be created')
      assert.equal(h.transport.calls.length, c.forwarded ? 1 : 0, 'STS calls')
      assert.equal(await refusedAudits(h, c.code), 1, 'the refusal is audited')

      // The challenge the hostile request named is gone, even for an otherwise valid request.
      await c.restore?.(h)
      h.transport.respond = async () => jsonIdentity()
      const named = hostile.named ?? challenge
      const replay = await post(h, '/v1/join/iam', joinBody(await signedStsRequest(named, h.clock.now())))
      assert.equal(replay.json.code, 'ERR_IAM_BAD_CHALLENGE', JSON.stringify(replay.json))
      assert.equal(await instanceCount(h), 0)
    })
  }

  it('fail/missing challenge header → ERR_IAM_BAD_CHALLENGE, and the holder of the challenge is not locked out', async () => {
    const challenge = await challengeFor(h)
    const res = await post(h, '/v1/join/iam', joinBody(await signedStsRequest(undefined, h.clock.now())))
    assert.equal(res.json.code, 'ERR_IAM_BAD_CHALLENGE')
    assert.equal(h.transport.calls.length, 0)
    assert.equal(await instanceCount(h), 0)
    // A request that names no challenge cannot burn one: that would let anyone who knows the
    // (non-secret) token name deny joins to everyone else.
    const ok = await post(h, '/v1/join/iam', joinBody(await signedStsRequest(challenge, h.clock.now())))
    assert.equal(ok.status, 200, JSON.stringify(ok.json))
  })

  it('fail/reused challenge → ERR_IAM_BAD_CHALLENGE after one successful join', async () => {
    const challenge = await challengeFor(h)
    const sts = await signedStsRequest(challenge, h.clock.now())
    assert.equal((await post(h, '/v1/join/iam', joinBody(sts))).status, 200)
    const again = await post(h, '/v1/join/iam', joinBody(sts))
    assert.equal(again.json.code, 'ERR_IAM_BAD_CHALLENGE')
    assert.equal(await instanceCount(h), 1)
    assert.equal(h.transport.calls.length, 1)
  })

  it('fail/concurrent joins with one challenge: exactly one succeeds', async () => {
    const challenge = await challengeFor(h)
    const sts = await signedStsRequest(challenge, h.clock.now())
    const results = await Promise.all(Array.from({ length: 6 }, () => post(h, '/v1/join/iam', joinBody(sts))))
    assert.equal(results.filter((r) => r.status === 200).length, 1)
    assert.ok(results.filter((r) => r.status !== 200).every((r) => r.json.code === 'ERR_IAM_BAD_CHALLENGE'))
    assert.equal(await instanceCount(h), 1)
  })

  it('fail/a challenge for an unknown or non-iam token creates nothing', async () => {
    const unknown = await post(h, '/v1/join/iam/challenge', { token: 'no-such-token' })
    assert.equal(unknown.json.code, 'ERR_JOIN_TOKEN_INVALID')
    assert.equal(unknown.status, 401)
    assert.equal((await h.store.list('iam_challenge/')).items.length, 0)
  })

  it('fail/a malformed join body is a plain bad request', async () => {
    const res = await post(h, '/v1/join/iam', {
      token: TOKEN,
      public_key: newKey().publicPem,
      sts_request: { url: 1 },
    })
    assert.equal(res.json.code, 'ERR_BAD_REQUEST')
  })
})
