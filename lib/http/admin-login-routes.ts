/**
 * Administrator login by AWS IAM (lib/auth/admin-login.ts). No proof of possession: the signed
 * `sts:GetCallerIdentity` request is the proof.
 *
 *   POST /v1/admin/login/iam/challenge  {}                                  → {challenge, expires}
 *   POST /v1/admin/login/iam            {public_key, ttl_seconds?, sts_request} → the identity
 *
 * `ttl_seconds` is 60 s to 7 days on the wire and clamped to 12 h by the service (default 1 h).
 */
import type { Hono } from 'hono'
import * as z from 'zod'
import { issueAdminLoginChallenge, loginAdminWithIam } from '../auth/admin-login.ts'
import type { AuthDeps } from '../auth/deps.ts'
import type { AppEnv } from './auth-app.ts'
import { parseJsonBody } from './body.ts'

const challengeBody = z.strictObject({})
const loginBody = z.strictObject({
  public_key: z.string().max(16 * 1024),
  ttl_seconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .optional(),
  // Loose on purpose, as for the join: sizes and shapes inside are the proof's own checks.
  sts_request: z.strictObject({
    method: z.string().max(16),
    url: z.string().max(2048),
    headers: z.record(z.string().max(256), z.string()),
    body: z.string().max(4096),
  }),
})

export function registerAdminLoginRoutes(app: Hono<AppEnv>, deps: AuthDeps): void {
  app.post('/v1/admin/login/iam/challenge', async (c) => {
    // An empty body is an empty object: the challenge names nothing.
    if (c.get('body').length > 0) parseJsonBody(c.get('body'), challengeBody)
    const { challenge, expires } = await issueAdminLoginChallenge(deps)
    return c.json({ challenge, expires: expires.toISOString() })
  })
  app.post('/v1/admin/login/iam', async (c) => {
    const body = parseJsonBody(c.get('body'), loginBody)
    return c.json(
      await loginAdminWithIam(deps, {
        publicKeyPem: body.public_key,
        ...(body.ttl_seconds !== undefined && { ttlMs: body.ttl_seconds * 1000 }),
        sts: body.sts_request,
      }),
    )
  })
}
