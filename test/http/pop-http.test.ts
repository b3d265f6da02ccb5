/**
 * Proof-of-possession failures end to end, through the HTTP app: requests are built by hand with
 * `createPopSigner` (the client would never send them), and every refusal must leave the API as a
 * 401 whose body is exactly `{code, message}`. The verifier's own cases are in
 * test/unit/auth/pop.test.ts; these check that the app wires it in front of every PoP route.
 */
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { beforeEach, describe, it } from 'node:test'
import type { IssueResponse } from '../../lib/auth/issue-response.ts'
import { createPopSigner, type PopSigner } from '../../lib/auth/pop/client.ts'
import { parseCallerPublicKey } from '../../lib/auth/public-key.ts'
import type { ClientIdentity } from '../../lib/bot/auth-client.ts'
import { issueUserCertificates } from '../../lib/ca/issue-user-certificates.ts'
import { type Clock, ManualClock } from '../../lib/clock.ts'
import { decodeIdentity } from '../../lib/identity/x509-encoding.ts'
import { type AuthHarness, authHarness, BASE_URL, joinedBot, newKey } from '../helpers/auth-harness.ts'

const CERTS_URL = `${BASE_URL}/v1/certs`
const RENEW_URL = `${BASE_URL}/v1/renew`
const MINUTE = 60_000

function signerFor(identity: ClientIdentity, clock: Clock, chain?: readonly Uint8Array[]): PopSigner {
  return createPopSigner({
    key: identity.key,
    chain: chain ?? [new X509Certificate(identity.tlsCertPem).raw],
    clock,
  })
}

const certsBody = () =>
  JSON.stringify({ public_key: newKey().publicPem, roles: ['access'], ttl_seconds: 600 })

function post(h: AuthHarness, url: string, authorization: string, body: string): Promise<Response> {
  return h.fetch(url, {
    method: 'POST',
    body,
    headers: { authorization, 'content-type': 'application/json' },
  })
}

/** A refusal: the status, `{code, message}` and nothing else (no stack, no details, no reason). */
async function assertRefused(res: Response, status: number, code: string, message: RegExp): Promise<void> {
  const text = await res.text()
  assert.equal(res.status, status, text)
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  const body = JSON.parse(text) as Record<string, unknown>
  assert.deepEqual(Object.keys(body).sort(), ['code', 'message'])
  assert.equal(body.code, code)
  assert.match(String(body.message), message)
  assert.doesNotMatch(text, /\bat .+\.ts:\d+|stack|reason/)
}

describe('proof of possession over HTTP', () => {
  let h: AuthHarness
  let bot: ClientIdentity
  let joined: IssueResponse
  beforeEach(async () => {
    h = await authHarness()
    const j = await joinedBot(h)
    bot = j.identity
    joined = j.response
  })

  it('ok/a hand-built request is accepted (control for the cases below)', async () => {
    const body = certsBody()
    const res = await post(
      h,
      CERTS_URL,
      await signerFor(bot, h.clock).sign({ method: 'POST', url: CERTS_URL, body }),
      body,
    )
    assert.equal(res.status, 200, await res.clone().text())
    assert.deepEqual(((await res.json()) as IssueResponse).identity.roles, ['access'])
  })

  it('fail/a replayed request (same Authorization header twice): the second is a 401', async () => {
    const body = certsBody()
    const authorization = await signerFor(bot, h.clock).sign({ method: 'POST', url: CERTS_URL, body })
    assert.equal((await post(h, CERTS_URL, authorization, body)).status, 200)
    await assertRefused(
      await post(h, CERTS_URL, authorization, body),
      401,
      'ERR_UNAUTHENTICATED',
      /^proof of possession rejected: the token has already been used$/,
    )
  })

  it('fail/a replay is refused even within the skew window, after the clock moved', async () => {
    const body = certsBody()
    const authorization = await signerFor(bot, h.clock).sign({ method: 'POST', url: CERTS_URL, body })
    assert.equal((await post(h, CERTS_URL, authorization, body)).status, 200)
    h.clock.advance(59_000)
    await assertRefused(
      await post(h, CERTS_URL, authorization, body),
      401,
      'ERR_UNAUTHENTICATED',
      /already been used/,
    )
    h.clock.advance(5 * MINUTE) // the replay record expired, but so did the token
    await assertRefused(
      await post(h, CERTS_URL, authorization, body),
      401,
      'ERR_UNAUTHENTICATED',
      /issued too long ago/,
    )
  })

  it('fail/a body tampered with after signing is a 401, and does not burn the token', async () => {
    const body = certsBody()
    const authorization = await signerFor(bot, h.clock).sign({ method: 'POST', url: CERTS_URL, body })
    const tampered = body.replace('"access"', '"machine-id-db"')
    assert.notEqual(tampered, body)
    await assertRefused(
      await post(h, CERTS_URL, authorization, tampered),
      401,
      'ERR_UNAUTHENTICATED',
      /^proof of possession rejected: the body does not match the signed body hash$/,
    )
    // The replay record is written last: a refused request leaves the genuine one usable.
    assert.equal((await post(h, CERTS_URL, authorization, body)).status, 200)
  })

  const skewed: [name: string, offsetMs: number, message: RegExp][] = [
    ['fail/a stale timestamp (signer clock 2 minutes behind)', -2 * MINUTE, /issued too long ago/],
    ['fail/a future timestamp (signer clock 2 minutes ahead)', 2 * MINUTE, /issued in the future/],
  ]
  for (const [name, offsetMs, message] of skewed) {
    it(`${name} is a 401`, async () => {
      const clock = new ManualClock(h.clock.now().getTime() + offsetMs)
      const body = certsBody()
      const authorization = await signerFor(bot, clock).sign({ method: 'POST', url: CERTS_URL, body })
      await assertRefused(await post(h, CERTS_URL, authorization, body), 401, 'ERR_UNAUTHENTICATED', message)
    })
  }

  it('fail/a certificate from another CA is a 401, even carrying a real identity and this CA in x5c', async () => {
    // Prepare: another cluster's user CA certifies this cluster's bot identity for an attacker key.
    const other = await authHarness()
    const attacker = newKey()
    const forged = await issueUserCertificates(
      other.service.deps.cas.user,
      {
        identity: decodeIdentity(new X509Certificate(bot.tlsCertPem).raw),
        publicKey: parseCallerPublicKey(attacker.publicPem),
        now: h.clock.now(),
        notAfter: new Date(h.clock.now().getTime() + 3600_000),
      },
      other.service.deps.random,
    )
    const ourCa = h.service.deps.cas.user.trustedTlsCerts[0]?.raw as Uint8Array
    const chains: (readonly Uint8Array[])[] = [[forged.tlsCertDer], [forged.tlsCertDer, ourCa]]
    for (const chain of chains) {
      const body = certsBody()
      const signer = signerFor({ key: attacker.key, tlsCertPem: forged.tlsCertPem }, h.clock, chain)
      const authorization = await signer.sign({ method: 'POST', url: CERTS_URL, body })
      await assertRefused(
        await post(h, CERTS_URL, authorization, body),
        401,
        'ERR_UNAUTHENTICATED',
        /^proof of possession rejected: the certificate is not issued by a trusted, valid CA$/,
      )
    }
    // And a bot that joined the other cluster is a stranger here.
    const stranger = (await joinedBot(other)).identity
    const body = certsBody()
    const authorization = await signerFor(stranger, h.clock).sign({ method: 'POST', url: CERTS_URL, body })
    await assertRefused(await post(h, CERTS_URL, authorization, body), 401, 'ERR_UNAUTHENTICATED', /trusted/)
  })

  it('fail/an expired bot certificate is a 401 on every PoP route', async () => {
    h.clock.set(new Date(joined.not_after).getTime() + 1000)
    const routes: [string, string][] = [
      [CERTS_URL, certsBody()],
      [RENEW_URL, JSON.stringify({ public_key: newKey().publicPem, ttl_seconds: 3600 })],
      [
        `${BASE_URL}/v1/heartbeat`,
        JSON.stringify({ hostname: 'h', version: '1', one_shot: false, is_startup: true, uptime_seconds: 0 }),
      ],
    ]
    const signer = signerFor(bot, h.clock)
    for (const [url, body] of routes) {
      const authorization = await signer.sign({ method: 'POST', url, body })
      await assertRefused(
        await post(h, url, authorization, body),
        401,
        'ERR_UNAUTHENTICATED',
        /^proof of possession rejected: the certificate has expired$/,
      )
    }
  })

  it('ok/a certificate is still accepted at its exact notAfter (inclusive)', async () => {
    h.clock.set(new Date(joined.not_after))
    const body = certsBody()
    const authorization = await signerFor(bot, h.clock).sign({ method: 'POST', url: CERTS_URL, body })
    const res = await post(h, CERTS_URL, authorization, body)
    // Authenticated; the issuance itself has no time left to give.
    await assertRefused(res, 403, 'ERR_ACCESS_DENIED', /the caller identity has expired/)
  })

  it('fail/a token signed for /v1/certs and sent to /v1/renew is a 401, and renews nothing', async () => {
    const body = JSON.stringify({ public_key: newKey().publicPem, ttl_seconds: 3600 })
    const authorization = await signerFor(bot, h.clock).sign({ method: 'POST', url: CERTS_URL, body })
    await assertRefused(
      await post(h, RENEW_URL, authorization, body),
      401,
      'ERR_UNAUTHENTICATED',
      /^proof of possession rejected: the token was signed for another URL$/,
    )
    const instance = await h.service.deps.resources.get(
      'bot_instance',
      `example/${joined.identity.bot_instance_id}`,
    )
    assert.equal(instance.status.generation, 1)
  })

  it('fail/a token signed for another method or another query is a 401', async () => {
    const signer = signerFor(bot, h.clock)
    const getToken = await signer.sign({ method: 'GET', url: CERTS_URL })
    await assertRefused(
      await post(h, CERTS_URL, getToken, ''),
      401,
      'ERR_UNAUTHENTICATED',
      /signed for another HTTP method/,
    )
    const body = certsBody()
    const queried = await signer.sign({ method: 'POST', url: `${CERTS_URL}?roles=admin`, body })
    await assertRefused(await post(h, CERTS_URL, queried, body), 401, 'ERR_UNAUTHENTICATED', /another URL/)
  })

  it('fail/an Authorization header that is not PoP is a 401 with the same body shape', async () => {
    const body = certsBody()
    const bearer = (await signerFor(bot, h.clock).sign({ method: 'POST', url: CERTS_URL, body })).replace(
      /^PoP /,
      'Bearer ',
    )
    await assertRefused(
      await post(h, CERTS_URL, bearer, body),
      401,
      'ERR_UNAUTHENTICATED',
      /the Authorization scheme must be PoP/,
    )
    await assertRefused(
      await post(h, CERTS_URL, 'PoP a.b.c', body),
      401,
      'ERR_UNAUTHENTICATED',
      /the JWS header is not a JSON object/,
    )
  })
})
