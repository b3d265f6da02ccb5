/**
 * The CA keys: one asymmetric KMS key (ECDSA P-256, SIGN_VERIFY) per CA key label. Private keys
 * never leave KMS. The key policy lets the account administer the keys and only the auth
 * function's role sign with them ({@link caKeyPolicy}). Production keeps the keys when the stage
 * is removed and waits 30 days before a scheduled deletion takes effect; other stages 7.
 */
import { awsContext } from './aws-context.ts'
import { type InfraConfig, roleName } from './config.ts'
import { CA_KEY_LABELS, CA_KEY_SPEC, type CaKeyLabel } from './contracts.ts'
import { caKeyPolicy, roleArn } from './iam.ts'

export type CaKeys = Readonly<Record<CaKeyLabel, aws.kms.Key>>

export function createCaKeys(config: InfraConfig): CaKeys {
  const policy = awsContext().apply((ctx) =>
    JSON.stringify(
      caKeyPolicy({
        aws: ctx,
        signerRoleArn: roleArn(ctx, roleName(config.names.authFunction, ctx.region)),
      }),
    ),
  )
  const entries = CA_KEY_LABELS.map((label) => {
    const key = new aws.kms.Key(
      `CaKey${label.replace(/(?:^|-)([a-z])/g, (_, c: string) => c.toUpperCase())}`,
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
  return Object.fromEntries(entries) as Record<CaKeyLabel, aws.kms.Key>
}
