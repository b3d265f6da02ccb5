/**
 * Lambda entry point of the auth service (behind a Function URL). Wiring only: the configuration
 * is read from the environment once per cold start; everything else is in lib/serverless.
 */
import { systemClock } from '../../lib/clock.ts'
import { createLogger } from '../../lib/log.ts'
import { cryptoRandom } from '../../lib/random.ts'
import { loadAuthLambdaConfig } from '../../lib/serverless/auth-config.ts'
import { createAuthLambdaHandler } from '../../lib/serverless/auth-lambda.ts'

const config = loadAuthLambdaConfig(process.env, process.cwd())

export const handler = createAuthLambdaHandler(config, {
  clock: systemClock,
  random: cryptoRandom,
  log: createLogger(config.service.logLevel),
})
