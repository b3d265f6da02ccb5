/**
 * Events for the reissue Lambda handler: Function URL requests (payload 2.0) with an IAM request
 * context, and auth-service events as an EventBridge rule delivers them by direct invoke (the
 * shape moto's rule delivery produced in test/adapters/eventbridge-sink.test.ts, plus the account).
 */
import { AUTH_EVENT_SOURCE } from '../../../lib/adapters/eventbridge/source.ts'
import type { FunctionUrlEvent } from '../../../lib/serverless/function-url.ts'
import type { AuthEventBridgeEvent } from '../../../lib/serverless/reissue-event.ts'

export const ACCOUNT = '123456789012'
export const OPS = `arn:aws:sts::${ACCOUNT}:assumed-role/ops-admin/alice`
export const BUS = 'credbroker-dev'

export function urlEvent(options: {
  method: 'GET' | 'POST'
  path: string
  body?: unknown
  headers?: Record<string, string>
  userArn?: string
}): FunctionUrlEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: options.path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...options.headers },
    requestContext: {
      accountId: ACCOUNT,
      apiId: 'reissue',
      domainName: 'reissue.lambda-url.us-east-1.on.aws',
      domainPrefix: 'reissue',
      http: {
        method: options.method,
        path: options.path,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.9',
        userAgent: 'test',
      },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '22/Nov/2026:12:00:00 +0000',
      timeEpoch: Date.UTC(2026, 10, 22, 12),
      ...(options.userArn !== undefined && {
        authorizer: {
          iam: {
            accessKey: 'ASIAEXAMPLE',
            accountId: ACCOUNT,
            callerId: 'AROAEXAMPLE:alice',
            cognitoIdentity: null,
            principalOrgId: 'o-example',
            userArn: options.userArn,
            userId: 'AROAEXAMPLE:alice',
          },
        },
      }),
    },
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    isBase64Encoded: false,
  } as FunctionUrlEvent
}

/** An auth-service event as the rule delivers it; `overrides` change any top-level field. */
export function authEvent(
  type: string,
  detail: Record<string, unknown> = {},
  overrides: Partial<AuthEventBridgeEvent> = {},
): AuthEventBridgeEvent {
  return {
    version: '0',
    id: '28918eaf-b673-44db-99ae-011278f79e93',
    'detail-type': type,
    source: AUTH_EVENT_SOURCE,
    account: ACCOUNT,
    time: '2026-11-22T12:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { user: 'admin', success: true, time: '2026-11-22T12:00:00.000Z', event_bus: BUS, ...detail },
    ...overrides,
  }
}
