/**
 * IAM roles on moto, as a deployment creates them for its functions: a role trusted by one IAM
 * user (standing in for the Lambda service), one inline policy, and `AssumeRole` with a session
 * name (a Lambda function's session is named after the function, so its caller ARN is
 * `arn:aws:sts::<account>:assumed-role/<role>/<function>`).
 */
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam'
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts'
import { type AccessKey, MOTO_ACCOUNT_ID, type MotoServer } from './moto.ts'

export interface RoleCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken: string
}

/** Creates `role`, assumable by IAM user `trustedUser`, with `statements` as its only policy. Auth off. */
export async function createRole(
  moto: MotoServer,
  role: string,
  trustedUser: string,
  statements: readonly object[],
): Promise<void> {
  const iam = new IAMClient({
    endpoint: moto.endpoint,
    region: moto.region,
    credentials: moto.adminCredentials,
  })
  try {
    await iam.send(
      new CreateRoleCommand({
        RoleName: role,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/${trustedUser}` },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    )
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: role,
        PolicyName: `${role}-policy`,
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }),
      }),
    )
  } finally {
    iam.destroy()
  }
}

/** The role's temporary credentials for session `sessionName`, assumed by `user`. */
export async function assumeRole(
  moto: MotoServer,
  user: AccessKey,
  role: string,
  sessionName: string,
): Promise<RoleCredentials> {
  const sts = new STSClient({ endpoint: moto.endpoint, region: moto.region, credentials: user })
  try {
    const { Credentials: c } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/${role}`,
        RoleSessionName: sessionName,
      }),
    )
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
      throw new Error('AssumeRole returned no credentials')
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken }
  } finally {
    sts.destroy()
  }
}
