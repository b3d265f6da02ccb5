/**
 * An auth service for IAM join tests: in-memory ports, a frozen clock, the example cluster, `iam`
 * tokens for bot `example`, and a fake STS transport that records what it is asked to send.
 */
import { resolve } from 'node:path'
import { Hash } from '@smithy/hash-node'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'
import { MemoryKeyStore } from '../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../lib/adapters/memory/store.ts'
import { type AuthService, createAuthService } from '../../lib/auth/service.ts'
import { AuthClient } from '../../lib/bot/auth-client.ts'
import { loadDocuments } from '../../lib/cli/load-documents.ts'
import { ManualClock } from '../../lib/clock.ts'
import { STS_BODY } from '../../lib/join/iam/sts-request.ts'
import type { StsHttpRequest, StsHttpResponse, StsTransport } from '../../lib/join/iam/transport.ts'
import { silentLogger } from '../../lib/log.ts'
import { cryptoRandom } from '../../lib/random.ts'
import type { IamAllowRule } from '../../lib/resources/types.ts'
import { applyResources } from '../../lib/services/apply.ts'
import { BASE_URL } from './auth-harness.ts'

export const ACCOUNT = '123456789012'
export const ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/ci/i-0abc`
export const STS_HOST = 'sts.us-east-1.amazonaws.com'
/** Token names (not secret for `iam`). */
export const TOKEN = 'iam-example'
export const OTHER_TOKEN = 'iam-other'
export const RULES: readonly IamAllowRule[] = [
  { aws_account: ACCOUNT, aws_arn: 'arn:aws:sts::*:assumed-role/ci/*' },
]

export function jsonIdentity(account = ACCOUNT, arn = ARN): StsHttpResponse {
  const body = {
    GetCallerIdentityResponse: { GetCallerIdentityResult: { Account: account, Arn: arn, UserId: 'AROA:x' } },
  }
  return { status: 200, body: new TextEncoder().encode(JSON.stringify(body)) }
}

export function xmlIdentity(account = ACCOUNT, arn = ARN, extra = ''): StsHttpResponse {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <UserId>AROA:x</UserId>
    <Account>${account}</Account>
    <Arn>${arn}</Arn>${extra}
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`
  return { status: 200, body: new TextEncoder().encode(xml) }
}

/** Records requests; answers with `respond` (default: a JSON identity matching {@link RULES}). */
export class FakeTransport implements StsTransport {
  readonly calls: StsHttpRequest[] = []
  respond: (request: StsHttpRequest) => Promise<StsHttpResponse> = async () => jsonIdentity()
  send(request: StsHttpRequest): Promise<StsHttpResponse> {
    this.calls.push(request)
    return this.respond(request)
  }
}

export interface IamHarness {
  readonly service: AuthService
  readonly clock: ManualClock
  readonly store: MemoryStore
  readonly transport: FakeTransport
  readonly client: AuthClient
  readonly fetch: (url: string, init?: RequestInit) => Promise<Response>
}

export async function iamHarness(extraStsHosts: readonly string[] = []): Promise<IamHarness> {
  const clock = new ManualClock(Date.UTC(2026, 10, 22, 12))
  const store = new MemoryStore({ clock })
  const transport = new FakeTransport()
  const service = await createAuthService({
    clusterName: 'test.local',
    publicAddr: BASE_URL,
    store,
    keys: new MemoryKeyStore(),
    clock,
    random: cryptoRandom,
    log: silentLogger,
    iam: { transport, extraStsHosts },
  })
  await applyResources(service.deps.resources, loadDocuments(resolve('examples/cluster')))
  for (const name of [TOKEN, OTHER_TOKEN]) await createIamToken(service, name)
  const fetch = async (url: string, init?: RequestInit) => service.app.request(url, init)
  return {
    service,
    clock,
    store,
    transport,
    client: new AuthClient({ baseUrl: BASE_URL, fetch, clock }),
    fetch,
  }
}

export async function createIamToken(service: AuthService, name: string, expires?: Date): Promise<void> {
  await service.deps.resources.create({
    kind: 'token',
    version: 'v1',
    metadata: { name, labels: {}, ...(expires && { expires: expires.toISOString() }) },
    spec: { join_method: 'iam', bot_name: 'example', allow: [...RULES] },
  })
}

export interface StsRequestBody {
  method: string
  url: string
  headers: Record<string, string>
  body: string
}

/** The audience a request signed for the harness's service carries: the origin of its publicAddr. */
export const AUDIENCE = new URL(BASE_URL).origin

export interface SignedStsOptions {
  readonly host?: string
  /** The challenge header is added after signing. */
  readonly unsigned?: boolean
  /** The signed `x-credbroker-audience`: {@link AUDIENCE} when absent; `null`: no such header. */
  readonly audience?: string | null
  /** The audience header is added after signing. */
  readonly unsignedAudience?: boolean
}

/**
 * A GetCallerIdentity request SigV4-signed (static fake credentials) for `host`, carrying
 * `challenge` and the audience in signed headers (or, with `unsigned` / `unsignedAudience`, added
 * after signing).
 */
export async function signedStsRequest(
  challenge: string | undefined,
  at: Date,
  options: SignedStsOptions = {},
): Promise<StsRequestBody> {
  const host = options.host ?? STS_HOST
  const audience = options.audience === undefined ? AUDIENCE : options.audience
  const headers: Record<string, string> = {
    host,
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    accept: 'application/json',
  }
  if (challenge !== undefined && !options.unsigned) headers['x-credbroker-challenge'] = challenge
  if (audience !== null && !options.unsignedAudience) headers['x-credbroker-audience'] = audience
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    },
    region: 'us-east-1',
    service: 'sts',
    sha256: Hash.bind(null, 'sha256'),
  })
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: 'https:',
      hostname: host,
      path: '/',
      headers,
      body: STS_BODY,
    }),
    { signingDate: at },
  )
  const out: Record<string, string> = { ...(signed.headers as Record<string, string>) }
  if (challenge !== undefined && options.unsigned) out['x-credbroker-challenge'] = challenge
  if (audience !== null && options.unsignedAudience) out['x-credbroker-audience'] = audience
  return { method: 'POST', url: `https://${host}/`, headers: out, body: STS_BODY }
}
