/**
 * The narrow EventBridge client the sink depends on: `PutEvents` only, as one SigV4-signed JSON
 * 1.1 request (`X-Amz-Target: AWSEvents.PutEvents`). The AWS SDK's EventBridge client is not a
 * dependency of this project; the request is signed with `@smithy/signature-v4`, which the IAM
 * join already uses. Tests can pass any object of the {@link EventBridgeApi} shape.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node'
import { Hash } from '@smithy/hash-node'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'
import type { Clock } from '../../clock.ts'
import { UpstreamUnavailableError } from '../../errors.ts'
import { checkAwsClientConfig } from '../aws-client-config.ts'

/** IAM actions the sink calls (granted on the bus only). */
export const EVENTBRIDGE_SINK_IAM_ACTIONS = ['events:PutEvents'] as const

/** One `PutEventsRequestEntry`. */
export interface PutEventsEntry {
  readonly Source: string
  readonly DetailType: string
  /** A JSON object, as text. */
  readonly Detail: string
  readonly EventBusName: string
  /** Seconds since the epoch. */
  readonly Time?: number
}

export interface PutEventsOutput {
  readonly FailedEntryCount?: number
  readonly Entries?: ReadonlyArray<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }>
}

export interface EventBridgeApi {
  putEvents(entries: readonly PutEventsEntry[]): Promise<PutEventsOutput>
}

/** Credentials in the SDK's `AwsCredentialIdentity` shape, from a provider called per request. */
export interface EventBridgeCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string | undefined
}

export interface EventBridgeClientConfig {
  /** AWS region of the bus. */
  readonly region: string
  /** Endpoint override (moto, a VPC endpoint); default `https://events.<region>.amazonaws.com`. */
  readonly endpoint?: string
  /**
   * Called for every request (a Lambda's role credentials rotate); absent: the SDK's default
   * Node chain (environment, profile, web identity, ECS, IMDS), as the SDK clients use.
   */
  readonly credentials?: () => Promise<EventBridgeCredentials>
  /** The signing time. */
  readonly clock: Clock
  readonly fetch?: typeof fetch
  /**
   * How long one PutEvents may take; default {@link PUT_EVENTS_TIMEOUT_MS}. A publish runs in the
   * request that made the change, after the change is committed: a hung endpoint must not hold it.
   */
  readonly timeoutMs?: number
}

export const PUT_EVENTS_TIMEOUT_MS = 3000

/**
 * @throws InvalidConfigError naming the field (region, endpoint).
 * @example
 * const client = createEventBridgeClient({ region: 'eu-west-1', credentials, clock: systemClock })
 */
export function createEventBridgeClient(config: EventBridgeClientConfig): EventBridgeApi {
  checkAwsClientConfig({ region: config.region, ...(config.endpoint && { endpoint: config.endpoint }) })
  const url = new URL(config.endpoint ?? `https://events.${config.region}.amazonaws.com`)
  const send = config.fetch ?? fetch
  const credentials = config.credentials ?? defaultProvider()
  const signer = new SignatureV4({
    service: 'events',
    region: config.region,
    sha256: Hash.bind(null, 'sha256'),
    credentials: () => credentials(),
  })
  return {
    async putEvents(entries) {
      const body = JSON.stringify({ Entries: entries })
      const request = new HttpRequest({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port !== '' && { port: Number(url.port) }),
        path: url.pathname,
        headers: {
          host: url.host,
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AWSEvents.PutEvents',
        },
        body,
      })
      const signed = (await signer.sign(request, { signingDate: config.clock.now() })) as HttpRequest
      let response: Response
      try {
        response = await send(url, {
          method: 'POST',
          headers: signed.headers,
          body,
          signal: AbortSignal.timeout(config.timeoutMs ?? PUT_EVENTS_TIMEOUT_MS),
        })
      } catch (err) {
        throw new UpstreamUnavailableError('EventBridge is unreachable', { cause: err })
      }
      const text = await response.text()
      if (!response.ok) {
        const type = errorType(text)
        throw new UpstreamUnavailableError(`EventBridge refused PutEvents (${response.status} ${type})`, {
          details: { status: response.status, type },
        })
      }
      return JSON.parse(text) as PutEventsOutput
    },
  }
}

/** The `__type` of an AWS JSON error body (`com.amazonaws…#ResourceNotFoundException` → the name). */
function errorType(text: string): string {
  try {
    const type = (JSON.parse(text) as { __type?: unknown }).__type
    return typeof type === 'string' ? (type.split('#').pop() ?? type) : 'unknown error'
  } catch {
    return 'unknown error'
  }
}
