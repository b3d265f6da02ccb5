/**
 * The auth service's HTTP API, a Hono app built from injected dependencies. Served by
 * `@hono/node-server` locally and by `hono/aws-lambda` behind a Function URL.
 *
 * | method | path                         | auth     | what                                         |
 * |--------|------------------------------|----------|----------------------------------------------|
 * | GET    | /v1/ping                     | none     | cluster name, public address, CA fingerprints |
 * | GET    | /v1/cas                      | none     | every trusted CA (certificates, SSH keys, known_hosts, JWKS) and each CA's rotation phase |
 * | GET    | /.well-known/jwks.json       | none     | the JWT signing keys                          |
 * | POST   | /v1/join                     | token    | token join → renewable bot identity           |
 * | POST   | /v1/join/iam/challenge       | none     | a single-use challenge for an `iam` token     |
 * | POST   | /v1/join/iam                 | AWS (+PoP)| iam join → non-renewable bot identity        |
 * | POST   | /v1/renew                    | PoP      | renew a renewable bot identity (idempotent)   |
 * | POST   | /v1/certs                    | PoP      | impersonated certificates (optionally routed) |
 * | POST   | /v1/certs/host               | PoP      | OpenSSH host certificate (`host_cert` create) |
 * | POST   | /v1/svid/x509, /v1/svid/jwt  | PoP      | SPIFFE X.509-SVID / JWT-SVID (`spiffe` paths) |
 * | POST   | /v1/heartbeat                | PoP      | bot instance heartbeat                        |
 * | *      | /v1/{resources,bots,locks}…  | PoP+RBAC | admin (see admin-routes.ts)                   |
 * | GET/POST | /v1/ca/rotation            | PoP+RBAC | CA rotation status and steps (ca-routes.ts)   |
 * | POST   | /v1/admin/login/iam[/challenge] | AWS   | admin login by IAM (admin-login-routes.ts)    |
 *
 * Every request body is JSON, at most {@link MAX_BODY_BYTES}; every error is `{code, message}`.
 * Every PoP route refuses a locked caller, and both joins a locked bot or token (lib/auth/locks.ts).
 */
import { Hono } from 'hono'
import * as z from 'zod'
import type { Caller } from '../auth/caller.ts'
import type { AuthDeps } from '../auth/deps.ts'
import { recordHeartbeat } from '../auth/heartbeat.ts'
import { issueHostCertificate } from '../auth/host-certs.ts'
import { issueImpersonated } from '../auth/impersonate.ts'
import { issueIamChallenge, joinWithIam } from '../auth/join-iam.ts'
import { joinWithToken } from '../auth/join-token.ts'
import { parseCallerPublicKey, parseDatabaseClientPublicKey } from '../auth/public-key.ts'
import { renewBotIdentity } from '../auth/renew.ts'
import type { RouteRequest } from '../auth/route.ts'
import { issueJwtSvid, issueX509Svid } from '../auth/svid.ts'
import { isBrokerError } from '../errors.ts'
import { renewalRequestId } from '../resources/bot-instance.ts'
import { registerAdminLoginRoutes } from './admin-login-routes.ts'
import { registerAdminRoutes } from './admin-routes.ts'
import { parseJsonBody } from './body.ts'
import { registerCaRoutes } from './ca-routes.ts'
import { caBundle, pingResponse } from './cas.ts'
import { errorResponse, notFoundResponse } from './errors.ts'
import { readBody } from './read-body.ts'

export const MAX_BODY_BYTES = 64 * 1024

/**
 * Proves who sent a request (proof of possession: see lib/auth/pop). Receives the exact body
 * bytes the handler will parse.
 * @throws UnauthenticatedError
 */
export type Authenticate = (request: Request, body: Uint8Array) => Promise<Caller>

/** The part of a request context the authentication helpers use. */
export interface CallerContext {
  readonly req: { readonly raw: Request }
  get(key: 'body'): Uint8Array
  get(key: 'caller'): Caller | undefined
  set(key: 'caller', value: Caller): void
}

export interface AuthAppDeps extends AuthDeps {
  readonly authenticate: Authenticate
}

export type AppEnv = { Variables: { body: Uint8Array; caller: Caller | undefined } }

const HOUR_S = 3600
const ttlSeconds = z
  .number()
  .int()
  .min(60)
  .max(7 * 24 * HOUR_S)

const joinBody = z.strictObject({
  token: z.string().min(1).max(256),
  public_key: z.string(),
  ttl_seconds: ttlSeconds.optional(),
})
const iamChallengeBody = z.strictObject({ token: z.string().min(1).max(256) })
const iamJoinBody = z.strictObject({
  token: z.string().min(1).max(256),
  public_key: z.string(),
  ttl_seconds: ttlSeconds.optional(),
  // Loose on purpose: sizes and shapes inside are the join's own checks, each with its own code.
  sts_request: z.strictObject({
    method: z.string().max(16),
    url: z.string().max(2048),
    headers: z.record(z.string().max(256), z.string()),
    body: z.string().max(4096),
  }),
})
/** `request_id`: the bot's id for one renewal, the same on every retry (docs/RENEWAL.md). */
const renewBody = z.strictObject({
  public_key: z.string(),
  ttl_seconds: ttlSeconds.optional(),
  request_id: renewalRequestId,
})
const resourceName = z.string().min(1).max(253)
/** At most one route: the resource the certificate is for. */
const routeBody = z.union([
  z.strictObject({
    database: z.strictObject({
      service: resourceName,
      username: z.string().min(1).max(253).optional(),
      database: z.string().min(1).max(253).optional(),
    }),
  }),
  z.strictObject({ kubernetes_cluster: resourceName }),
  z.strictObject({ app: resourceName }),
])
const certsBody = z.strictObject({
  public_key: z.string(),
  roles: z.array(z.string().min(1).max(253)).max(64).optional(),
  ttl_seconds: ttlSeconds.optional(),
  route: routeBody.optional(),
})
const hostCertsBody = z.strictObject({
  public_key: z.string(),
  roles: z.array(z.string().min(1).max(253)).max(64).optional(),
  principals: z.array(z.string().min(1).max(253)).min(1).max(64),
  ttl_seconds: ttlSeconds.optional(),
})
const svidBody = {
  roles: z.array(z.string().min(1).max(253)).max(64).optional(),
  path: z.string().min(1).max(2048),
  ttl_seconds: ttlSeconds.optional(),
}
const x509SvidBody = z.strictObject({ ...svidBody, public_key: z.string() })
const jwtSvidBody = z.strictObject({
  ...svidBody,
  audiences: z.array(z.string().min(1).max(1024)).min(1).max(16),
})
const heartbeatBody = z.strictObject({
  hostname: z.string().max(253),
  version: z.string().max(64),
  one_shot: z.boolean(),
  is_startup: z.boolean(),
  uptime_seconds: z.number().int().min(0),
})

function routeRequest(body: z.output<typeof routeBody>): RouteRequest {
  if ('database' in body) return { database: body.database }
  if ('kubernetes_cluster' in body) return { kubernetesCluster: body.kubernetes_cluster }
  return { app: body.app }
}

export function createAuthApp(deps: AuthAppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.use(async (c, next) => {
    c.set('body', await readBody(c, MAX_BODY_BYTES))
    // CAs may have rotated in another process: at most one store read per refresh interval.
    await deps.authorities?.refresh()
    await next()
  })
  /** The authenticated caller, verified once per request (a second verify would be a replay). */
  const caller = async (c: CallerContext): Promise<Caller> => {
    const known = c.get('caller')
    if (known) return known
    const who = await deps.authenticate(c.req.raw, c.get('body'))
    c.set('caller', who)
    return who
  }

  app.get('/v1/ping', (c) => c.json(pingResponse(deps)))
  app.get('/v1/cas', (c) => c.json(caBundle(deps)))
  app.get('/.well-known/jwks.json', (c) => c.json({ keys: deps.cas.jwt.trustedJwks }))

  app.post('/v1/join', async (c) => {
    const body = parseJsonBody(c.get('body'), joinBody)
    const publicKey = parseCallerPublicKey(body.public_key)
    return c.json(
      await joinWithToken(deps, { token: body.token, publicKey, ttlMs: (body.ttl_seconds ?? HOUR_S) * 1000 }),
    )
  })
  app.post('/v1/join/iam/challenge', async (c) => {
    const body = parseJsonBody(c.get('body'), iamChallengeBody)
    const { challenge, expires } = await issueIamChallenge(deps, body.token)
    return c.json({ challenge, expires: expires.toISOString() })
  })
  app.post('/v1/join/iam', async (c) => {
    const body = parseJsonBody(c.get('body'), iamJoinBody)
    const publicKey = parseCallerPublicKey(body.public_key)
    // Proof of possession is optional here: a valid identity of the same bot keeps its instance;
    // a missing, expired or otherwise unverifiable one just means a new instance.
    let previous: Caller | undefined
    if (c.req.header('authorization') !== undefined) {
      previous = await caller(c).catch((err: unknown) => {
        if (isBrokerError(err)) return undefined
        throw err
      })
    }
    return c.json(
      await joinWithIam(deps, {
        token: body.token,
        publicKey,
        ttlMs: (body.ttl_seconds ?? HOUR_S) * 1000,
        sts: body.sts_request,
        ...(previous && { previous }),
      }),
    )
  })
  app.post('/v1/renew', async (c) => {
    const who = await caller(c)
    const body = parseJsonBody(c.get('body'), renewBody)
    const publicKey = parseCallerPublicKey(body.public_key)
    const ttlMs = (body.ttl_seconds ?? HOUR_S) * 1000
    return c.json(await renewBotIdentity(deps, who, { publicKey, ttlMs, requestId: body.request_id }))
  })
  app.post('/v1/certs', async (c) => {
    const who = await caller(c)
    const body = parseJsonBody(c.get('body'), certsBody)
    // Database servers may need RSA client certificates; every other certificate is P-256/Ed25519.
    const publicKey =
      body.route !== undefined && 'database' in body.route
        ? parseDatabaseClientPublicKey(body.public_key)
        : parseCallerPublicKey(body.public_key)
    const ttlMs = (body.ttl_seconds ?? HOUR_S) * 1000
    const route = body.route && routeRequest(body.route)
    return c.json(
      await issueImpersonated(deps, who, {
        roles: body.roles ?? [],
        ttlMs,
        publicKey,
        ...(route && { route }),
      }),
    )
  })
  app.post('/v1/certs/host', async (c) => {
    const who = await caller(c)
    const body = parseJsonBody(c.get('body'), hostCertsBody)
    return c.json(
      await issueHostCertificate(deps, who, {
        roles: body.roles ?? [],
        principals: body.principals,
        ttlMs: (body.ttl_seconds ?? HOUR_S) * 1000,
        publicKey: parseCallerPublicKey(body.public_key),
      }),
    )
  })
  app.post('/v1/svid/x509', async (c) => {
    const who = await caller(c)
    const body = parseJsonBody(c.get('body'), x509SvidBody)
    return c.json(
      await issueX509Svid(deps, who, {
        roles: body.roles ?? [],
        path: body.path,
        ttlMs: (body.ttl_seconds ?? HOUR_S) * 1000,
        publicKey: parseCallerPublicKey(body.public_key),
      }),
    )
  })
  app.post('/v1/svid/jwt', async (c) => {
    const who = await caller(c)
    const body = parseJsonBody(c.get('body'), jwtSvidBody)
    return c.json(
      await issueJwtSvid(deps, who, {
        roles: body.roles ?? [],
        path: body.path,
        ttlMs: (body.ttl_seconds ?? 300) * 1000,
        audiences: body.audiences,
      }),
    )
  })
  app.post('/v1/heartbeat', async (c) => {
    const who = await caller(c)
    await recordHeartbeat(deps, who, parseJsonBody(c.get('body'), heartbeatBody))
    return c.json({ ok: true })
  })
  registerAdminRoutes(app, deps, caller)
  registerCaRoutes(app, deps, caller)
  registerAdminLoginRoutes(app, deps)

  app.notFound(notFoundResponse)
  app.onError((err, c) => errorResponse(c, err, deps.log))
  return app
}
