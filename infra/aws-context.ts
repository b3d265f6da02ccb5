/**
 * The partition, region and account the stack deploys into, resolved once from the provider.
 * Infra modules build ARNs from it (`iam.ts`), never from hard-coded `arn:aws:` strings.
 */
import type { AwsContext } from './iam.ts'

let context: $util.Output<AwsContext> | undefined

export function awsContext(): $util.Output<AwsContext> {
  context ??= $resolve({
    partition: aws.getPartitionOutput({}),
    region: aws.getRegionOutput({}),
    identity: aws.getCallerIdentityOutput({}),
  }).apply(({ partition, region, identity }) => ({
    partition: partition.partition,
    dnsSuffix: partition.dnsSuffix,
    region: region.region,
    account: identity.accountId,
  }))
  return context
}
