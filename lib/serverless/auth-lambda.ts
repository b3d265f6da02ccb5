/**
 * The auth service as a Lambda handler behind a Function URL: DynamoDB state, CA keys in KMS,
 * the Hono app answering each event.
 *
 * The service is built on the first event of a cold start (its CAs are loaded, or created on the
 * very first start of a deployment) and reused after that. If building fails — KMS throttled,
 * DynamoDB unreachable — that event is answered `{code, message}` with the error's status (503
 * for an unavailable dependency) and the next event tries again; a failed start is never cached.
 */
import { readFileSync } from 'node:fs'
import { createEventBridgeClient } from '../adapters/eventbridge/client.ts'
import { EventBridgeSink } from '../adapters/eventbridge/sink.ts'
import { KmsKeyStore } from '../adapters/kms/key-store.ts'
import { openStore } from '../adapters/open-store.ts'
import { type AuthService, createAuthService } from '../auth/service.ts'
import type { Clock } from '../clock.ts'
import { AlreadyExistsError, InvalidConfigError, isBrokerError } from '../errors.ts'
import { publicError } from '../http/public-error.ts'
import { createNodeStsTransport } from '../join/iam/transport.ts'
import type { Logger } from '../log.ts'
import type { EventSink } from '../ports/event-sink.ts'
import type { KeyStore } from '../ports/key-store.ts'
import type { Store } from '../ports/store.ts'
import type { Random } from '../random.ts'
import { parseResources } from '../resources/parse.ts'
import type { AuthLambdaConfig } from './auth-config.ts'
import {
  type FunctionUrlEvent,
  type FunctionUrlResult,
  requestFromEvent,
  resultFromResponse,
} from './function-url.ts'

export interface AuthLambdaDeps {
  readonly clock: Clock
  readonly random: Random
  readonly log: Logger
  /** Built from the configuration when absent (tests inject their own). */
  readonly store?: Store
  readonly keys?: KeyStore
  /** Where reissue-triggering audit events go; built from `CREDBROKER_EVENT_BUS` when absent. */
  readonly events?: EventSink
}

export type AuthLambdaHandler = (event: FunctionUrlEvent) => Promise<FunctionUrlResult>

export function createAuthLambdaHandler(config: AuthLambdaConfig, deps: AuthLambdaDeps): AuthLambdaHandler {
  let starting: Promise<AuthService> | undefined
  const service = (publicAddr: string): Promise<AuthService> => {
    starting ??= startService(config, deps, publicAddr).catch((err: unknown) => {
      starting = undefined
      throw err
    })
    return starting
  }
  return async (event) => {
    let request: Request
    try {
      request = requestFromEvent(event, config.publicAddr)
    } catch (err) {
      deps.log.error('the auth function received an event that is not a Function URL request')
      return errorResult(400, 'ERR_BAD_REQUEST', (err as Error).message)
    }
    let app: AuthService['app']
    try {
      app = (await service(new URL(request.url).origin)).app
    } catch (err) {
      return startFailure(err, deps.log)
    }
    return resultFromResponse(await app.fetch(request))
  }
}

async function startService(config: AuthLambdaConfig, deps: AuthLambdaDeps, publicAddr: string) {
  const { service: settings } = config
  const store = deps.store ?? (await openStore(settings.store, { clock: deps.clock, random: deps.random }))
  const keys =
    deps.keys ??
    new KmsKeyStore({
      clientConfig: {
        region: settings.store.region,
        ...(config.kms.endpoint !== undefined && { endpoint: config.kms.endpoint }),
      },
      keys: config.kms.keys,
      messageType: config.kms.messageType,
    })
  const region = settings.store.region
  const events = deps.events ?? eventSinkOf(settings.events, deps.clock)
  const service = await createAuthService({
    clusterName: settings.clusterName,
    publicAddr,
    store,
    keys,
    clock: deps.clock,
    random: deps.random,
    log: deps.log,
    ...(events && { events }),
    iam: {
      extraStsHosts: settings.iam.extraStsHosts,
      admins: settings.iam.admins,
      ...(config.stsEndpoint && {
        transport: createNodeStsTransport({
          endpointOverrides: new Map([
            [`sts.${region}.amazonaws.com`, config.stsEndpoint],
            ['sts.amazonaws.com', config.stsEndpoint],
          ]),
        }),
      }),
    },
  })
  if (config.bootstrapFile !== undefined) await bootstrap(service, config.bootstrapFile, deps.log)
  deps.log.info('auth service started', { cluster: settings.clusterName, public_addr: publicAddr })
  return service
}

/** The EventBridge sink `CREDBROKER_EVENT_BUS` names (the function's role credentials sign it). */
function eventSinkOf(settings: AuthLambdaConfig['service']['events'], clock: Clock): EventSink | undefined {
  if (settings === undefined) return undefined
  const client = createEventBridgeClient({
    region: settings.region,
    ...(settings.endpoint && { endpoint: settings.endpoint.toString() }),
    clock,
  })
  return new EventBridgeSink({ bus: settings.bus, client, clock })
}

/** Set once the bootstrap file has been applied: later cold starts leave the state alone. */
export const BOOTSTRAP_MARKER_KEY = 'bootstrap/applied'

/**
 * On the first start of a deployment, creates each resource of the bootstrap file that does not
 * exist yet, then records that it did. Later cold starts skip it, so a resource an operator
 * deletes (a revoked bot, a join token) stays deleted: after the first start, the state store
 * and its admins own everything. A start that dies half-way applies the file again next time
 * (creation is idempotent).
 */
async function bootstrap(service: AuthService, path: string, log: Logger): Promise<void> {
  const { store } = service.deps
  if (await store.get(BOOTSTRAP_MARKER_KEY)) return
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    throw new InvalidConfigError('CREDBROKER_BOOTSTRAP_FILE', `cannot read ${path}`)
  }
  let docs: ReturnType<typeof parseResources>
  try {
    docs = parseResources(text)
  } catch (err) {
    throw new InvalidConfigError('CREDBROKER_BOOTSTRAP_FILE', `${path}: ${(err as Error).message}`)
  }
  let created = 0
  for (const doc of docs) {
    try {
      await service.deps.resources.create(doc)
      created++
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err
    }
  }
  await store.create(BOOTSTRAP_MARKER_KEY, JSON.stringify({ file: path, created })).catch((err: unknown) => {
    if (!(err instanceof AlreadyExistsError)) throw err // another cold start recorded it first
  })
  log.info('bootstrap resources applied', { file: path, created, existing: docs.length - created })
}

function startFailure(err: unknown, log: Logger): FunctionUrlResult {
  if (isBrokerError(err)) {
    log.error('the auth service could not start', { code: err.code, error: err.message })
    const { code, message } = publicError(err)
    return errorResult(err.status >= 500 ? err.status : 500, code, message)
  }
  log.error('the auth service could not start', { error: err instanceof Error ? err.message : String(err) })
  return errorResult(500, 'ERR_INTERNAL', 'the auth service could not start; see its log')
}

function errorResult(status: number, code: string, message: string): FunctionUrlResult {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, message }),
    isBase64Encoded: false,
  }
}
