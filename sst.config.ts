/// <reference path="./.sst/platform/config.d.ts" />
/**
 * SST app definition. `run()` sequences the components in `infra/`, one file per concern:
 * settings (`config.ts`), the state table (`state.ts`), the CA keys (`keys.ts`), the auth
 * function (`auth.ts`), the scheduled bot (`rotate.ts`) and, when callers are configured, the
 * reissue function with the auth events that trigger it (`reissue.ts`). See infra/README.md.
 *
 * Deploy with AWS credentials: `npx sst deploy --stage <stage>`. Offline, `npm run typecheck`
 * checks this file and `infra/` against the platform types (`scripts/sst-types.sh`).
 */
export default $config({
  app(input) {
    const production = input?.stage === 'production'
    return {
      name: 'credbroker',
      home: 'aws',
      removal: production ? 'retain' : 'remove',
      protect: production,
    }
  },
  async run() {
    const { loadInfraConfig } = await import('./infra/config.ts')
    const { createStateTable } = await import('./infra/state.ts')
    const { createCaKeys } = await import('./infra/keys.ts')
    const { createAuthFunction } = await import('./infra/auth.ts')
    const { botCallerArn, createRotate } = await import('./infra/rotate.ts')
    const { createAuthEvents, createReissue, reissueCallerArn } = await import('./infra/reissue.ts')

    // Validated before any resource is declared: a bad setting stops the deploy here.
    const config = loadInfraConfig({ app: $app.name, stage: $app.stage, env: process.env })
    // Paths in the settings are relative to this file's directory, as copyFiles' are.
    const root = $cli.paths.root

    const table = createStateTable(config)
    const keys = createCaKeys(config)
    const events = createAuthEvents(config)
    const auth = createAuthFunction(config, { table, keys, root, events })
    const rotate = createRotate(config, { auth, root })
    const reissue = events && createReissue(config, { auth, events, root })

    return {
      authUrl: auth.url,
      tableName: table.name,
      secretPrefix: config.secretPrefix,
      authFunction: auth.name,
      rotateFunction: rotate.fn.name,
      /** The `aws_arn` an `iam` join token for the deployed bot must allow. */
      botCallerArn: botCallerArn(config),
      ...(reissue && {
        /** The reissue endpoint (IAM auth): `POST /v1/reissue`, `GET /v1/status`. */
        reissueUrl: reissue.url,
        reissueFunction: reissue.fn.name,
        /** A second `aws_arn` the bot's `iam` join token must allow. */
        reissueCallerArn: reissueCallerArn(config),
        authEventBus: events?.name,
      }),
    }
  },
})
