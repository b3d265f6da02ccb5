/**
 * CA rotation endpoints (PoP + RBAC on the rule resource `cert_authority`):
 *
 *   GET  /v1/ca/rotation   read     → { cas: RotationStatus[] }
 *   POST /v1/ca/rotation   update   { type, phase?, manual?, grace_period_seconds?, force? } → RotationStatus
 *
 * The process that takes a step reloads its CAs at once; the others within their refresh interval.
 */
import type { Hono } from 'hono'
import * as z from 'zod'
import type { AuthDeps } from '../auth/deps.ts'
import { CA_TYPES, type CaType } from '../ca/authorities.ts'
import { rotateCa, rotationStatus } from '../ca/rotation.ts'
import { ROTATION_PHASES, type RotationPhase } from '../ca/rotation-phases.ts'
import { InvalidConfigError } from '../errors.ts'
import { adminGate, type CallerOf } from './admin-gate.ts'
import type { AppEnv } from './auth-app.ts'
import { parseJsonBody } from './body.ts'

const rotateBody = z.strictObject({
  type: z.enum(CA_TYPES as [CaType, ...CaType[]]),
  phase: z.enum(ROTATION_PHASES as [RotationPhase, ...RotationPhase[]]).optional(),
  manual: z.boolean().optional(),
  /** End a rotation before its signer has signed for a grace period (see lib/ca/rotation.ts). */
  force: z.boolean().optional(),
  grace_period_seconds: z
    .number()
    .int()
    .min(60)
    .max(365 * 24 * 3600)
    .optional(),
})

export function registerCaRoutes(app: Hono<AppEnv>, deps: AuthDeps, callerOf: CallerOf): void {
  const { admitted, authorize } = adminGate(deps, callerOf)
  app.get('/v1/ca/rotation', async (c) => {
    await authorize(await admitted(c), 'cert_authority', 'read')
    return c.json({ cas: await rotationStatus(deps) })
  })
  app.post('/v1/ca/rotation', async (c) => {
    const caller = await authorize(await admitted(c), 'cert_authority', 'update')
    const body = parseJsonBody(c.get('body'), rotateBody)
    const keys = deps.keys
    if (!keys) throw new InvalidConfigError('keys', 'this auth service was started without a key store')
    const status = await rotateCa(
      { ...deps, keys },
      {
        type: body.type,
        user: caller.identity.user,
        ...(body.phase !== undefined && { phase: body.phase }),
        ...(body.manual !== undefined && { manual: body.manual }),
        ...(body.force !== undefined && { force: body.force }),
        ...(body.grace_period_seconds !== undefined && { gracePeriodMs: body.grace_period_seconds * 1000 }),
      },
    )
    await deps.authorities?.refresh({ force: true })
    return c.json(status)
  })
}
