/**
 * Lambda entry point of the bot's reissue endpoint (a Function URL with AWS_IAM auth), and of the
 * auth-service events an EventBridge rule delivers to it. Wiring only: the configuration is read
 * from the environment once per cold start (lib/serverless).
 */
import { systemRetryDeps } from '../../lib/bot/retry.ts'
import { systemClock } from '../../lib/clock.ts'
import { createLogger } from '../../lib/log.ts'
import { loadReissueLambdaConfig } from '../../lib/serverless/reissue-config.ts'
import { createReissueHandler } from '../../lib/serverless/reissue-lambda.ts'

const config = loadReissueLambdaConfig(process.env, process.cwd())

export const handler = createReissueHandler(config, {
  clock: systemClock,
  log: createLogger(config.logLevel),
  env: process.env,
  retry: systemRetryDeps,
})
