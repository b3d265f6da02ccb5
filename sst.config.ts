/// <reference path="./.sst/platform/config.d.ts" />
/**
 * SST app definition. `run()` sequences the components in `infra/`, one file per concern.
 *
 * Nothing is deployed yet: the DynamoDB state table, KMS CA keys, the auth function and the
 * scheduled bot arrive with the serverless deployment work (see docs/ARCHITECTURE.md). This file is
 * not part of `npm run typecheck` until `sst install` provides the platform types.
 */
export default $config({
  app(input) {
    return {
      name: 'credbroker',
      home: 'aws',
      removal: input?.stage === 'production' ? 'retain' : 'remove',
    }
  },
  async run() {
    return {}
  },
})
