/**
 * KMS on a local moto server for the benchmarks, set up as the tests set it up: moto on
 * 127.0.0.1 (`test/helpers/moto.ts`), one ECC_NIST_P256 SIGN_VERIFY key per CA key label, and an
 * IAM user allowed exactly kms:Sign and kms:GetPublicKey (what the auth function gets). Auth
 * (SigV4 signature checking and IAM authorisation) is on once {@link startKmsOnMoto} returns.
 *
 * Signing uses messageType RAW: moto mishandles DIGEST (stack notes §12.7). Production signs
 * DIGEST, whose request is 32 bytes instead of the ~400-byte TBSCertificate; over loopback the
 * difference is noise.
 */
import { CreateKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms'
import type { AwsClientConfig } from '../lib/adapters/aws-client-config.ts'
import { KMS_KEY_STORE_IAM_ACTIONS, KmsKeyStore } from '../lib/adapters/kms/key-store.ts'
import { startMoto } from '../test/helpers/moto.ts'

/** The CA key labels `lib/ca/authorities.ts` asks the key store for. */
const LABELS = ['user-tls', 'user-ssh', 'host-tls', 'host-ssh', 'db-tls', 'jwt-jwt'] as const

/** What an auth process needs to reach the keys (passed to the benchmark server as JSON). */
export interface KmsBenchConfig {
  readonly clientConfig: AwsClientConfig & { endpoint: string }
  /** CA key label → KMS key id. */
  readonly keys: Readonly<Record<string, string>>
}

export interface KmsOnMoto {
  readonly config: KmsBenchConfig
  /** A key store over these keys, as the auth function builds it (its own client, RAW messages). */
  keyStore(): KmsKeyStore
  /** One raw `Sign` request (ECDSA_SHA_256, RAW) of `message` with the user CA's X.509 key. */
  sign(message: Uint8Array): Promise<unknown>
  /** Turns SigV4 checking and IAM authorisation on (the default) or off. */
  setAuth(on: boolean): Promise<void>
  stop(): Promise<void>
}

export async function startKmsOnMoto(): Promise<KmsOnMoto> {
  const moto = await startMoto({ auth: true })
  const clients: KMSClient[] = []
  try {
    const admin = new KMSClient({
      endpoint: moto.endpoint,
      region: moto.region,
      credentials: moto.adminCredentials,
    })
    clients.push(admin)
    const keys: Record<string, string> = {}
    for (const label of LABELS) {
      const out = await admin.send(
        new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: label }),
      )
      if (!out.KeyMetadata?.KeyId) throw new Error('moto CreateKey returned no key id')
      keys[label] = out.KeyMetadata.KeyId
    }
    const credentials = await moto.createIamUser('bench-auth-function', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: [...KMS_KEY_STORE_IAM_ACTIONS], Resource: '*' }],
    })
    await moto.enableAuth()
    const config: KmsBenchConfig = {
      clientConfig: { region: moto.region, endpoint: moto.endpoint, credentials },
      keys,
    }
    const signer = new KMSClient({ endpoint: moto.endpoint, region: moto.region, credentials })
    clients.push(signer)
    return {
      config,
      keyStore: () => new KmsKeyStore({ clientConfig: config.clientConfig, keys, messageType: 'RAW' }),
      sign: (message) =>
        signer.send(
          new SignCommand({
            KeyId: keys['user-tls'],
            Message: message,
            MessageType: 'RAW',
            SigningAlgorithm: 'ECDSA_SHA_256',
          }),
        ),
      setAuth: (on) => (on ? moto.enableAuth() : moto.disableAuth()),
      async stop() {
        for (const c of clients) c.destroy()
        await moto.stop()
      },
    }
  } catch (err) {
    for (const c of clients) c.destroy()
    await moto.stop()
    throw err
  }
}
