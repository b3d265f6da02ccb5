/**
 * The CA keys: one asymmetric KMS key (ECDSA P-256, SIGN_VERIFY) per CA key label, for generation 0
 * and for each generation provisioned ahead of a CA rotation. Private keys
 * never leave KMS. The key policy lets the account administer the keys and only the auth
 * function's role sign with them ({@link caKeyPolicy}). Production keeps the keys when the stage
 * is removed and waits 30 days before a scheduled deletion takes effect; other stages 7.
 */
import { awsContext } from './aws-context.ts'
import { type InfraConfig, roleName } from './config.ts'
import { CA_KEY_SPEC, caKeyLabels } from './contracts.ts'
import { caKeyPolicy, roleArn } from './iam.ts'

/** Label → key: generation 0's six labels, plus those of `CREDBROKER_DEPLOY_CA_KEY_GENERATIONS`. */
export type CaKeys = Readonly<Record<string, aws.kms.Key>>

export function createCaKeys(config: InfraConfig): CaKeys {
  const policy = awsContext().apply((ctx) =>
    JSON.stringify(
      caKeyPolicy({
        aws: ctx,
        signerRoleArn: roleArn(ctx, roleName(config.names.authFunction, ctx.region)),
      }),
    ),
  )
  const entries = caKeyLabels(config.caKeyGenerations).map((label) => {
    const key = new aws.kms.Key(
      `CaKey${label.replace(/(?:^|-)([a-z0-9])/g, (_, c: string) => c.toUpperCase())}`,
      {
        description: `credbroker ${config.stage} CA key ${label}`,
        customerMasterKeySpec: CA_KEY_SPEC,
        keyUsage: 'SIGN_VERIFY',
        deletionWindowInDays: config.production ? 30 : 7,
        policy,
        tags: { 'credbroker:stage': config.stage, 'credbroker:label': label },
      },
      { retainOnDelete: config.production },
    )
    return [label, key] as const
  })
  return Object.fromEntries(entries)
}
