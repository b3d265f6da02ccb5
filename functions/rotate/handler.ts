/**
 * Lambda entry point of the scheduled bot. Wiring only: the configuration is read from the
 * environment once per cold start; each invocation is one bot cycle (lib/serverless).
 */
import { systemRetryDeps } from '../../lib/bot/retry.ts'
import { systemClock } from '../../lib/clock.ts'
import { createLogger } from '../../lib/log.ts'
import { loadRotateLambdaConfig } from '../../lib/serverless/rotate-config.ts'
import { createRotateHandler } from '../../lib/serverless/rotate-lambda.ts'

const config = loadRotateLambdaConfig(process.env, process.cwd())

export const handler = createRotateHandler(config, {
  clock: systemClock,
  log: createLogger(config.logLevel),
  env: process.env,
  retry: systemRetryDeps,
})
