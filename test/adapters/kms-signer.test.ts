/**
 * The KMS signer and key store (`lib/adapters/kms/`) against moto with SigV4 signature checking
 * and IAM authorisation on: the Signer conformance suite for ECDSA P-256 and RSA 2048 keys, the
 * key store's generate/signer/delete rules, error translation, and CAs created through KMS.
 *
 * Set-up order (auth is off until step 3): 1. KMS keys are created with moto's admin
 * credentials; 2. IAM users: "signer" may call exactly KMS_KEY_STORE_IAM_ACTIONS, "creator"
 * those plus the allowCreate actions, "no-sign" only kms:GetPublicKey, "inspector" kms:*
 * (inspects key state and tags behind the adapter's back); 3. auth on.
 *
 * moto 5.2 facts this file works around (stack notes §12.7 and moto's source):
 * - it ignores MessageType and always hashes the message, so DIGEST signatures cover
 *   SHA-256(SHA-256(data)): the conformance suite runs with messageType RAW, and the DIGEST
 *   request itself is checked below by recording what the adapter sends;
 * - it signs with disabled and pending-deletion keys, so the translation of DisabledException and
 *   KMSInvalidStateException is checked against a small local KMS stand-in speaking KMS's JSON
 *   protocol (the real SDK deserialises its answers);
 * - it authorises KMS requests against the resource "*" only (as for Secrets Manager), so the
 *   IAM policies limit actions, not keys.
 */
import assert from 'node:assert/strict'
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  GetPublicKeyCommand,
  type KeySpec,
  type KeyUsageType,
  KMSClient,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms'
import type { KmsApi } from '../../lib/adapters/kms/client.ts'
import {
  KMS_KEY_STORE_IAM_ACTIONS,
  KmsKeyStore,
  type KmsKeyStoreOptions,
  kmsKeyStoreIamActions,
} from '../../lib/adapters/kms/key-store.ts'
import { KmsSigner } from '../../lib/adapters/kms/signer.ts'
import { MemoryStore } from '../../lib/adapters/memory/store.ts'
import { CA_TYPES, type CaRecord, caKey, loadOrCreateAuthorities } from '../../lib/ca/authorities.ts'
import { AuthorityCache } from '../../lib/ca/authority-cache.ts'
import { issueUserCertificates } from '../../lib/ca/issue-user-certificates.ts'
import { rotateCa } from '../../lib/ca/rotation.ts'
import { ecdsaDerToRaw } from '../../lib/ca/signature.ts'
import { parseSpki } from '../../lib/ca/spki.ts'
import { authorizedKeyLine } from '../../lib/ca/ssh/public-key.ts'
import { ManualClock } from '../../lib/clock.ts'
import { InvalidConfigError, NotFoundError } from '../../lib/errors.ts'
import { silentLogger } from '../../lib/log.ts'
import type { KeyStore } from '../../lib/ports/key-store.ts'
import type { Signer } from '../../lib/ports/signer.ts'
import { cryptoRandom } from '../../lib/random.ts'
import { nodeVerify, runSignerConformance } from '../conformance/signer.suite.ts'
import { type AccessKey, type MotoServer, startMoto } from '../helpers/moto.ts'
import { sshKeygenList } from '../helpers/sshd.ts'

const CLUSTER = 'kms.example'
const LABELS = ['user-tls', 'user-ssh', 'host-tls', 'host-ssh', 'db-tls', 'jwt-jwt'] as const
const ALIAS = `alias/credbroker-test-${randomBytes(4).toString('hex')}`
const noCleanup = async () => {}
const bytes = (text: string) => new TextEncoder().encode(text)

let moto: MotoServer
let creds: Record<'signer' | 'creator' | 'noSign' | 'inspector', AccessKey>
/** The adapter's client: the least-privilege "signer" user. */
let client: KMSClient
let inspector: KMSClient
const clients: KMSClient[] = []
/** Keys made before auth was turned on, by purpose. */
const keys = {} as Record<'ec' | 'rsa' | 'p384' | 'encrypt', string>
const caKeys: Record<string, string> = {}

function kmsClient(credentials: AccessKey): KMSClient {
  const c = new KMSClient({ endpoint: moto.endpoint, region: moto.region, credentials })
  clients.push(c)
  return c
}

async function createKey(admin: KMSClient, KeySpec: KeySpec, KeyUsage: KeyUsageType = 'SIGN_VERIFY') {
  const out = await admin.send(new CreateKeyCommand({ KeySpec, KeyUsage, Description: 'credbroker test' }))
  assert.ok(out.KeyMetadata?.KeyId)
  return out.KeyMetadata.KeyId
}

before(async () => {
  moto = await startMoto({ auth: true })
  const admin = kmsClient(moto.adminCredentials)
  keys.ec = await createKey(admin, 'ECC_NIST_P256')
  keys.rsa = await createKey(admin, 'RSA_2048')
  keys.p384 = await createKey(admin, 'ECC_NIST_P384')
  keys.encrypt = await createKey(admin, 'RSA_2048', 'ENCRYPT_DECRYPT')
  await admin.send(new CreateAliasCommand({ AliasName: ALIAS, TargetKeyId: keys.ec }))
  for (const label of LABELS) caKeys[label] = await createKey(admin, 'ECC_NIST_P256')
  // The user CA's next generation, provisioned ahead of a rotation (docs/ROTATION.md).
  for (const label of ['user-tls-1', 'user-ssh-1']) caKeys[label] = await createKey(admin, 'ECC_NIST_P256')
  const policy = (actions: readonly string[] | string) => ({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }],
  })
  creds = {
    signer: await moto.createIamUser('kms-signer', policy([...KMS_KEY_STORE_IAM_ACTIONS])),
    creator: await moto.createIamUser('kms-creator', policy(kmsKeyStoreIamActions({ allowCreate: true }))),
    noSign: await moto.createIamUser('kms-no-sign', policy(['kms:GetPublicKey'])),
    inspector: await moto.createIamUser('kms-inspector', policy('kms:*')),
  }
  await moto.enableAuth()
  client = kmsClient(creds.signer)
  inspector = kmsClient(creds.inspector)
})

after(async () => {
  for (const c of clients) c.destroy()
  await moto?.stop()
})

/** A client passing every command to `inner`, recording each command's name and input. */
function recording(inner: KmsApi) {
  const commands: { name: string; input: Record<string, unknown> }[] = []
  const send = (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    commands.push({ name: command.constructor.name, input: command.input })
    return (inner.send as (c: unknown) => Promise<unknown>)(command)
  }
  return { client: { send, destroy: () => {} } as unknown as KmsApi, commands }
}

const count = (commands: { name: string }[], name: string) => commands.filter((c) => c.name === name).length

/** Resolves to the rejection of `promise`, after checking its code (and message). */
async function rejection(promise: Promise<unknown>, code: string, message?: RegExp) {
  const err = await promise.then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => e as Error & { code?: string; field?: string },
  )
  assert.equal(err.code, code, String(err))
  if (message) assert.match(err.message, message)
  return err
}

async function kmsPublicKey(keyId: string): Promise<Uint8Array> {
  const out = await inspector.send(new GetPublicKeyCommand({ KeyId: keyId }))
  assert.ok(out.PublicKey)
  return out.PublicKey
}

async function keyState(ref: string) {
  const out = await inspector.send(new DescribeKeyCommand({ KeyId: ref.replace(/^kms:/, '') }))
  return out.KeyMetadata
}

function openStore(options: Partial<KmsKeyStoreOptions> = {}) {
  return new KmsKeyStore({ client, messageType: 'RAW', ...options })
}

// RAW: moto mishandles DIGEST. KMS takes 1 to 4096 bytes in RAW messages, so the empty and
// 64 KiB messages of the suite cannot be signed that way; the DIGEST path that signs them in
// production is checked in 'Class: KmsSigner' below.
const RAW_LIMITS =
  'messageType RAW (needed on moto) takes 1 to 4096 bytes; DIGEST signs any size and is checked separately'
for (const [algorithm, key] of [
  ['ecdsa-p256-sha256', 'ec'],
  ['rsa-pkcs1-sha256', 'rsa'],
] as const) {
  runSignerConformance(
    `KmsSigner ${algorithm} (moto, messageType RAW)`,
    async () => ({
      signer: await KmsSigner.load({ client, keyId: keys[key], messageType: 'RAW' }),
      cleanup: noCleanup,
    }),
    {
      skip: {
        'ok/a signature over a empty message verifies with node:crypto': RAW_LIMITS,
        'ok/a signature over a 64 KiB message verifies with node:crypto': RAW_LIMITS,
      },
    },
  )
}

describe('Class: KmsSigner', () => {
  it('ok/one GetPublicKey per signer and exactly one Sign request per sign()', async () => {
    const r = recording(client)
    const signer = await KmsSigner.load({ client: r.client, keyId: keys.ec, messageType: 'RAW' })
    await signer.sign(bytes('one'))
    await signer.sign(bytes('two'))
    assert.deepEqual(
      r.commands.map((c) => c.name),
      ['GetPublicKeyCommand', 'SignCommand', 'SignCommand'],
    )
    assert.deepEqual(r.commands[1]?.input, {
      KeyId: keys.ec,
      Message: bytes('one'),
      MessageType: 'RAW',
      SigningAlgorithm: 'ECDSA_SHA_256',
    })
  })

  for (const [label, data] of [
    ['64 KiB', new Uint8Array(randomBytes(64 * 1024))],
    ['empty', new Uint8Array(0)],
  ] as const) {
    it(`ok/DIGEST (the default) sends the SHA-256 of the data, also for ${label} data`, async () => {
      const r = recording(client)
      const signer = await KmsSigner.load({ client: r.client, keyId: keys.ec })
      const digest = createHash('sha256').update(data).digest()

      const signature = await signer.sign(data)

      const signs = r.commands.filter((c) => c.name === 'SignCommand')
      assert.equal(signs.length, 1)
      const { Message, ...rest } = signs[0]?.input ?? {}
      assert.deepEqual(rest, { KeyId: keys.ec, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' })
      assert.deepEqual(Buffer.from(Message as Uint8Array), digest)
      // moto hashes the digest again: its signature covers SHA-256(digest), i.e. it verifies as a
      // signature over the digest taken as the message. Real KMS signs the digest itself.
      const key = spki(signer)
      assert.equal(nodeVerify('ecdsa-p256-sha256', key, digest, signature), true)
    })
  }

  it('ok/RAW signs messages of exactly 4096 bytes', async () => {
    const signer = await KmsSigner.load({ client, keyId: keys.rsa, messageType: 'RAW' })
    const data = new Uint8Array(randomBytes(4096))
    assert.equal(nodeVerify('rsa-pkcs1-sha256', spki(signer), data, await signer.sign(data)), true)
  })

  it('fail/RAW refuses 4097 bytes (ERR_TOO_LARGE) and empty data (ERR_INVALID_CONFIG) without a request', async () => {
    const r = recording(client)
    const signer = await KmsSigner.load({ client: r.client, keyId: keys.ec, messageType: 'RAW' })
    await rejection(signer.sign(new Uint8Array(4097)), 'ERR_TOO_LARGE', /at most 4096 bytes .* RAW/)
    await rejection(signer.sign(new Uint8Array(0)), 'ERR_INVALID_CONFIG', /empty message with RAW/)
    assert.equal(count(r.commands, 'SignCommand'), 0)
  })

  it('ok/an alias is resolved once: Sign names the key GetPublicKey reported', async () => {
    const signer = await KmsSigner.load({ client, keyId: ALIAS, messageType: 'RAW' })
    assert.equal(signer.keyId, keys.ec)
    assert.deepEqual(signer.publicKey, new Uint8Array(await kmsPublicKey(keys.ec)))
  })

  const unusable: ReadonlyArray<readonly [string, () => string, RegExp]> = [
    ['an ECC_NIST_P384 key', () => keys.p384, /is ECC_NIST_P384; credbroker signs with ECC_NIST_P256/],
    ['an ENCRYPT_DECRYPT key', () => keys.encrypt, /key usage ENCRYPT_DECRYPT; a CA key needs SIGN_VERIFY/],
  ]
  for (const [title, keyId, message] of unusable) {
    it(`fail/${title} is ERR_INVALID_CONFIG on keyId`, async () => {
      const err = await rejection(KmsSigner.load({ client, keyId: keyId() }), 'ERR_INVALID_CONFIG', message)
      assert.equal(err.field, 'keyId')
    })
  }

  it('fail/a key KMS does not have is ERR_NOT_FOUND', async () => {
    await rejection(
      KmsSigner.load({ client, keyId: '00000000-1111-2222-3333-444444444444' }),
      'ERR_NOT_FOUND',
      /does not exist/,
    )
  })

  it('fail/a user without kms:Sign gets ERR_UPSTREAM_UNAVAILABLE naming kms:Sign', async () => {
    const signer = await KmsSigner.load({
      client: kmsClient(creds.noSign),
      keyId: keys.ec,
      messageType: 'RAW',
    })
    await rejection(
      signer.sign(bytes('denied')),
      'ERR_UPSTREAM_UNAVAILABLE',
      /KMS denied kms:Sign on KMS key /,
    )
  })

  it('fail/a wrong secret key is ERR_UPSTREAM_UNAVAILABLE naming kms:GetPublicKey, without the secret', async () => {
    const wrong = `wrong-${randomBytes(12).toString('hex')}`
    const bad = kmsClient({ accessKeyId: creds.signer.accessKeyId, secretAccessKey: wrong })
    const err = await rejection(
      KmsSigner.load({ client: bad, keyId: keys.ec }),
      'ERR_UPSTREAM_UNAVAILABLE',
      /KMS denied kms:GetPublicKey/,
    )
    for (const secret of [wrong, creds.signer.secretAccessKey]) {
      assert.ok(!err.message.includes(secret))
      assert.ok(!JSON.stringify(err).includes(secret))
    }
  })

  it('fail/bad options: keyId and messageType are ERR_INVALID_CONFIG naming the option', async () => {
    const bad = [
      [{ keyId: 'not a key' }, 'keyId'],
      [{ keyId: `${keys.ec}\n` }, 'keyId'],
      [{ keyId: keys.ec, messageType: 'HASH' }, 'messageType'],
    ] as const
    for (const [options, field] of bad) {
      const err = await rejection(
        KmsSigner.load({ client, ...(options as { keyId: string }) }),
        'ERR_INVALID_CONFIG',
      )
      assert.equal(err.field, field)
    }
  })
})

describe('Class: KmsSigner error translation (local KMS stand-in)', () => {
  let fake: FakeKms
  before(async () => {
    fake = await startFakeKms()
  })
  after(async () => {
    await fake?.close()
  })

  const cases: ReadonlyArray<readonly [string, number, string, RegExp]> = [
    ['DisabledException', 400, 'ERR_INVALID_CONFIG', /KMS key \S+ is disabled/],
    [
      'KMSInvalidStateException',
      400,
      'ERR_INVALID_CONFIG',
      /cannot be used in its current state .*pending deletion/,
    ],
    ['InvalidKeyUsageException', 400, 'ERR_INVALID_CONFIG', /cannot be used for kms:Sign/],
    ['NotFoundException', 400, 'ERR_NOT_FOUND', /does not exist/],
    ['AccessDeniedException', 400, 'ERR_UPSTREAM_UNAVAILABLE', /KMS denied kms:Sign/],
    ['ThrottlingException', 400, 'ERR_THROTTLED', /throttling kms:Sign/],
    ['KeyUnavailableException', 500, 'ERR_UPSTREAM_UNAVAILABLE', /KMS failed kms:Sign/],
    ['KMSInternalException', 500, 'ERR_UPSTREAM_UNAVAILABLE', /KMS failed kms:Sign/],
  ]
  for (const [name, status, code, message] of cases) {
    it(`fail/Sign answering ${name} is ${code}`, async () => {
      const signer = await KmsSigner.load({ client: fake.client, keyId: fake.keyId })
      fake.onSign = () => ({ status, body: { __type: name, message: `AWS text naming ${fake.keyId}` } })
      const err = await rejection(signer.sign(bytes('x')), code, message)
      assert.equal(err.message.includes('AWS text'), false, 'AWS error text stays out of the message')
    })
  }

  it('fail/GetPublicKey answering DisabledException is ERR_INVALID_CONFIG (AWS refuses disabled keys there too)', async () => {
    fake.onGetPublicKey = () => ({ status: 400, body: { __type: 'DisabledException' } })
    try {
      await rejection(
        KmsSigner.load({ client: fake.client, keyId: fake.keyId }),
        'ERR_INVALID_CONFIG',
        /disabled/,
      )
    } finally {
      fake.onGetPublicKey = undefined
    }
  })

  it('ok/a non-minimal DER signature is returned canonical', async () => {
    const signer = await KmsSigner.load({ client: fake.client, keyId: fake.keyId, messageType: 'RAW' })
    const message = bytes('canonical')
    const der = sign('sha256', message, fake.privateKey)
    const loose = looseDer(der)
    assert.notDeepEqual(loose, der)
    fake.onSign = () => ({ status: 200, body: { KeyId: fake.keyId, Signature: loose.toString('base64') } })

    const signature = await signer.sign(message)

    assert.deepEqual(Buffer.from(signature), der)
    assert.equal(nodeVerify('ecdsa-p256-sha256', spki(signer), message, signature), true)
  })

  for (const [title, signature] of [
    ['not DER', Buffer.from('not a signature')],
    [
      'DER with trailing bytes',
      Buffer.concat([Buffer.from([0x30, 0x06, 2, 1, 1, 2, 1, 1]), Buffer.from([0])]),
    ],
    ['empty', Buffer.alloc(0)],
  ] as const) {
    it(`fail/a signature that is ${title} is ERR_UPSTREAM_UNAVAILABLE`, async () => {
      const signer = await KmsSigner.load({ client: fake.client, keyId: fake.keyId })
      fake.onSign = () => ({
        status: 200,
        body: { KeyId: fake.keyId, Signature: signature.toString('base64') },
      })
      await rejection(signer.sign(bytes('x')), 'ERR_UPSTREAM_UNAVAILABLE', /malformed signature/)
    })
  }
})

describe('Class: KmsKeyStore on moto', () => {
  it('ok/supports ECDSA P-256 and RSA, never Ed25519; generate refuses Ed25519 as a programmer error', async () => {
    const store = openStore({ allowCreate: true })
    assert.equal(store.supports('ecdsa-p256-sha256'), true)
    assert.equal(store.supports('rsa-pkcs1-sha256'), true)
    assert.equal(store.supports('ed25519'), false)
    await assert.rejects(store.generate('ed25519', 'user-ssh'), TypeError)
  })

  it('ok/a configured key is returned for its label; two stores racing get the same key, and delete() leaves it', async () => {
    const r = recording(client)
    const winner = openStore({ client: r.client, keys: { 'user-tls': keys.ec } })
    const loser = openStore({ keys: { 'user-tls': keys.ec } })

    const a = await winner.generate('ecdsa-p256-sha256', 'user-tls')
    const b = await loser.generate('ecdsa-p256-sha256', 'user-tls')
    await loser.delete(b.ref)

    assert.equal(a.ref, `kms:${keys.ec}`)
    assert.equal(b.ref, a.ref)
    assert.deepEqual(a.signer.publicKey, new Uint8Array(await kmsPublicKey(keys.ec)))
    assert.equal((await keyState(a.ref))?.KeyState, 'Enabled')
    assert.equal(await winner.signer(a.ref), a.signer, 'signers are cached per reference')
    const message = bytes('still signs')
    assert.equal(nodeVerify(a.signer.algorithm, spki(a.signer), message, await a.signer.sign(message)), true)
    assert.equal(count(r.commands, 'GetPublicKeyCommand'), 1)
    assert.equal(count(r.commands, 'ScheduleKeyDeletionCommand'), 0)
  })

  it('ok/an alias can be configured: the reference keeps the alias', async () => {
    const { ref, signer } = await openStore({ keys: { 'db-tls': ALIAS } }).generate(
      'ecdsa-p256-sha256',
      'db-tls',
    )
    assert.equal(ref, `kms:${ALIAS}`)
    assert.deepEqual(signer.publicKey, new Uint8Array(await kmsPublicKey(keys.ec)))
  })

  it('fail/a configured key of another spec is ERR_INVALID_CONFIG on keys.<label>', async () => {
    const store = openStore({ keys: { 'user-tls': keys.rsa, 'host-tls': keys.p384, 'db-tls': keys.encrypt } })
    const cases = [
      ['user-tls', /is a rsa-pkcs1-sha256 key, but user-tls needs ecdsa-p256-sha256 \(ECC_NIST_P256\)/],
      ['host-tls', /is ECC_NIST_P384; credbroker signs with/],
      ['db-tls', /key usage ENCRYPT_DECRYPT/],
    ] as const
    for (const [label, message] of cases) {
      const err = await rejection(store.generate('ecdsa-p256-sha256', label), 'ERR_INVALID_CONFIG', message)
      assert.ok(err instanceof InvalidConfigError)
      assert.equal(err.field, `keys.${label}`)
    }
  })

  it('fail/a configured key KMS does not have is ERR_INVALID_CONFIG naming the label', async () => {
    const missing = '00000000-1111-2222-3333-444444444444'
    const err = await rejection(
      openStore({ keys: { 'jwt-jwt': missing } }).generate('ecdsa-p256-sha256', 'jwt-jwt'),
      'ERR_INVALID_CONFIG',
      new RegExp(`KMS key ${missing} configured for jwt-jwt does not exist`),
    )
    assert.equal(err.field, 'keys.jwt-jwt')
  })

  it('fail/a label without a configured key and without allowCreate is ERR_INVALID_CONFIG naming it; nothing is created', async () => {
    const r = recording(client)
    const store = openStore({ client: r.client, keys: { 'user-tls': keys.ec } })
    const err = await rejection(
      store.generate('ecdsa-p256-sha256', 'host-tls'),
      'ERR_INVALID_CONFIG',
      /no KMS key configured for host-tls/,
    )
    assert.equal(err.field, 'keys.host-tls')
    assert.deepEqual(r.commands, [])
  })

  for (const [algorithm, keySpec] of [
    ['ecdsa-p256-sha256', 'ECC_NIST_P256'],
    ['rsa-pkcs1-sha256', 'RSA_2048'],
  ] as const) {
    it(`ok/allowCreate creates a tagged ${keySpec} SIGN_VERIFY key; delete() schedules its deletion in 7 days`, async () => {
      const store = openStore({
        client: kmsClient(creds.creator),
        allowCreate: true,
        tags: { stage: 'test' },
      })

      const { ref, signer } = await store.generate(algorithm, 'host-ssh')

      assert.match(ref, /^kms:arn:aws:kms:us-east-1:\d{12}:key\/[0-9a-f-]{36}$/)
      const meta = await keyState(ref)
      assert.equal(meta?.KeySpec, keySpec)
      assert.equal(meta?.KeyUsage, 'SIGN_VERIFY')
      assert.equal(meta?.KeyState, 'Enabled')
      assert.match(meta?.Description ?? '', /host-ssh/)
      const tags = await inspector.send(new ListResourceTagsCommand({ KeyId: ref.slice(4) }))
      assert.deepEqual(Object.fromEntries((tags.Tags ?? []).map((t) => [t.TagKey, t.TagValue])), {
        stage: 'test',
        'credbroker:managed': 'true',
        'credbroker:label': 'host-ssh',
      })
      assert.equal(signer.algorithm, algorithm)
      assert.equal(nodeVerify(algorithm, spki(signer), bytes('m'), await signer.sign(bytes('m'))), true)

      const startedAt = Date.now()
      await store.delete(ref)
      const deleted = await keyState(ref)
      assert.equal(deleted?.KeyState, 'PendingDeletion')
      const days = ((deleted?.DeletionDate?.getTime() ?? 0) - startedAt) / 86_400_000
      assert.ok(days > 6.9 && days < 7.1, `deletion in ${days} days`)
      await store.delete(ref) // a second delete is a no-op
    })
  }

  it('fail/without kms:CreateKey, allowCreate fails with ERR_UPSTREAM_UNAVAILABLE naming kms:CreateKey', async () => {
    await rejection(
      openStore({ allowCreate: true }).generate('ecdsa-p256-sha256', 'user-tls'),
      'ERR_UPSTREAM_UNAVAILABLE',
      /KMS denied kms:CreateKey on a new KMS key for user-tls/,
    )
  })

  it('ok/delete() leaves keys this instance did not create, even when given their reference', async () => {
    const r = recording(kmsClient(creds.creator))
    const creator = openStore({ client: r.client, allowCreate: true })
    const { ref } = await creator.generate('ecdsa-p256-sha256', 'user-tls')
    const other = openStore({ client: r.client, allowCreate: true })

    await other.delete(ref)
    await other.delete(`kms:${keys.ec}`)
    await other.delete('file:not-ours.pem')

    assert.equal((await keyState(ref))?.KeyState, 'Enabled')
    assert.equal(count(r.commands, 'ScheduleKeyDeletionCommand'), 0)
  })

  it('fail/a reference that is not exactly kms:<key> is ERR_NOT_FOUND, without a request', async () => {
    const r = recording(client)
    const store = openStore({ client: r.client })
    const refs = [
      'file:user-tls-0.pem',
      `memory:user-tls:${keys.ec}`,
      keys.ec,
      'kms:',
      'kms:not-a-key',
      `kms:${keys.ec} `,
      `kms:${keys.ec}\n`,
      `KMS:${keys.ec}`,
      'kms:arn:aws:kms:us-east-1:123456789012:key/../../x',
    ]
    for (const ref of refs) {
      const err = await rejection(store.signer(ref), 'ERR_NOT_FOUND')
      assert.ok(err instanceof NotFoundError)
    }
    assert.deepEqual(r.commands, [])
    await rejection(store.signer('kms:00000000-1111-2222-3333-444444444444'), 'ERR_NOT_FOUND')
  })

  it('fail/bad options are ERR_INVALID_CONFIG naming the option', () => {
    const bad: [Partial<KmsKeyStoreOptions>, string][] = [
      [{ keys: { 'User TLS': keys.ec } }, 'keys'],
      [{ keys: { 'user-tls': 'not-a-key' } }, 'keys.user-tls'],
      [{ allowCreate: 'yes' as unknown as boolean }, 'allowCreate'],
      [{ messageType: 'HASH' as 'RAW' }, 'messageType'],
      [{ tags: { 'credbroker:managed': 'false' } }, 'tags'],
      [{ tags: { 'aws:x': 'y' } }, 'tags'],
      [{ clientConfig: { region: moto.region } }, 'clientConfig'],
      [{ client: undefined, clientConfig: { region: 'nowhere' } }, 'clientConfig.region'],
      [{ client: undefined }, 'clientConfig'],
    ]
    for (const [options, field] of bad) {
      assert.throws(
        () => openStore(options),
        (err) => err instanceof InvalidConfigError && err.field === field,
        field,
      )
    }
  })

  it('ok/built from clientConfig (endpoint + static keys), as the auth Lambda builds it', async () => {
    const store = new KmsKeyStore({
      clientConfig: { region: moto.region, endpoint: moto.endpoint, credentials: creds.signer },
      keys: { 'user-tls': keys.ec },
      messageType: 'RAW',
    })
    try {
      const { signer } = await store.generate('ecdsa-p256-sha256', 'user-tls')
      assert.equal(
        nodeVerify(signer.algorithm, spki(signer), bytes('m'), await signer.sign(bytes('m'))),
        true,
      )
    } finally {
      store.close()
    }
  })
})

describe('CAs in KMS: loadOrCreateAuthorities with a KmsKeyStore', () => {
  const identity = {
    user: 'bot-kms',
    roles: ['bot-kms'],
    logins: ['ops'],
    botName: 'kms',
    botInstanceId: '0b7d3f2a-1c9e-4e55-9a61-2d8e4c7b1f00',
    generation: 1,
    renewable: false,
    disallowReissue: false,
  }

  it('ok/every CA key is the configured KMS key; the user CA issues X.509 and SSH certificates that verify', async () => {
    const clock = new ManualClock()
    const store = new MemoryStore({ clock })
    const deps = { store, clusterName: CLUSTER, clock, random: cryptoRandom }

    const cas = await loadOrCreateAuthorities({ ...deps, keys: openStore({ keys: caKeys }) })

    for (const type of CA_TYPES) {
      const record = JSON.parse((await store.get(caKey(type)))?.value ?? '') as CaRecord
      for (const [purpose, entry] of Object.entries(record.active)) {
        assert.equal(entry.key_ref, `kms:${caKeys[`${type}-${purpose}`]}`)
      }
    }
    const { user } = cas
    assert.ok(user.tls && user.ssh)
    // X.509: a self-signed CA certificate for the KMS key, verified by node:crypto alone.
    const caCert = new X509Certificate(user.tls.certPem)
    assert.equal(caCert.ca, true)
    assert.equal(caCert.verify(caCert.publicKey), true)
    assert.deepEqual(
      new Uint8Array(caCert.publicKey.export({ type: 'spki', format: 'der' })),
      new Uint8Array(await kmsPublicKey(caKeys['user-tls'] as string)),
    )
    // SSH: the CA line is the KMS key, as ecdsa-sha2-nistp256 (KMS holds no Ed25519 keys).
    assert.equal(
      user.ssh.publicKey,
      authorizedKeyLine(await kmsPublicKey(caKeys['user-ssh'] as string), `${CLUSTER} user CA`),
    )
    assert.match(user.ssh.publicKey, /^ecdsa-sha2-nistp256 /)

    const subject = parseSpki(
      generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }),
    )
    assert.ok(subject)
    const now = clock.now()
    const issued = await issueUserCertificates(
      user,
      { identity, publicKey: subject, now, notAfter: new Date(now.getTime() + 3_600_000) },
      cryptoRandom,
    )
    const leaf = new X509Certificate(issued.tlsCertDer)
    assert.equal(leaf.checkIssued(caCert), true)
    assert.equal(leaf.verify(caCert.publicKey), true)
    const listing = await sshKeygenList(issued.sshCert) // fails unless the CA signature verifies
    assert.match(listing, /Signing CA: ECDSA SHA256:\S+ \(using ecdsa-sha2-nistp256\)/)
    assert.ok(listing.includes(`Key ID: "${identity.user}"`), listing)

    // A second start (a new process: a fresh key store) loads the same CAs.
    const again = await loadOrCreateAuthorities({ ...deps, keys: openStore({ keys: caKeys }) })
    assert.equal(again.user.tls?.certPem, user.tls.certPem)
    assert.equal(again.host.ssh?.publicKey, cas.host.ssh?.publicKey)
    assert.deepEqual(again.jwt.jwt?.jwk, cas.jwt.jwt?.jwk)
  })

  it('ok/two starts racing with configured keys: the loser discards its refs and every KMS key survives', async () => {
    const store = new MemoryStore({ clock: new ManualClock() })
    const a = countingDeletes(openStore({ keys: caKeys }))
    const b = countingDeletes(openStore({ keys: caKeys }))
    const deps = { store, clusterName: CLUSTER, clock: new ManualClock(), random: cryptoRandom }

    const [first, second] = await Promise.all([
      loadOrCreateAuthorities({ ...deps, keys: a.keys }),
      loadOrCreateAuthorities({ ...deps, keys: b.keys }),
    ])

    assert.equal(
      a.deletes.length + b.deletes.length,
      LABELS.length,
      'the race happened: the losers discarded',
    )
    for (const id of Object.values(caKeys)) assert.equal((await keyState(`kms:${id}`))?.KeyState, 'Enabled')
    for (const type of CA_TYPES) {
      assert.equal(first[type].tls?.certPem, second[type].tls?.certPem)
      assert.equal(first[type].ssh?.publicKey, second[type].ssh?.publicKey)
    }
  })

  it('ok/two starts racing with allowCreate: the losers’ new keys are scheduled for deletion, the winners’ kept', async () => {
    const store = new MemoryStore({ clock: new ManualClock() })
    const creator = kmsClient(creds.creator)
    const a = countingDeletes(openStore({ client: creator, allowCreate: true }))
    const b = countingDeletes(openStore({ client: creator, allowCreate: true }))
    const deps = { store, clusterName: CLUSTER, clock: new ManualClock(), random: cryptoRandom }

    await Promise.all([
      loadOrCreateAuthorities({ ...deps, keys: a.keys }),
      loadOrCreateAuthorities({ ...deps, keys: b.keys }),
    ])

    const discarded = [...a.deletes, ...b.deletes]
    assert.equal(discarded.length, LABELS.length)
    for (const ref of discarded) assert.equal((await keyState(ref))?.KeyState, 'PendingDeletion')
    for (const type of CA_TYPES) {
      const record = JSON.parse((await store.get(caKey(type)))?.value ?? '') as CaRecord
      for (const entry of Object.values(record.active)) {
        assert.equal((await keyState(entry.key_ref))?.KeyState, 'Enabled')
      }
    }
  })
})

describe('CA rotation with KMS keys', () => {
  const deps = () => {
    const clock = new ManualClock()
    return {
      store: new MemoryStore({ clock }),
      clusterName: CLUSTER,
      clock,
      random: cryptoRandom,
      log: silentLogger,
    }
  }

  it('ok/the user CA rotates onto the provisioned generation-1 keys, which sign once they are active', async () => {
    const d = deps()
    const keyStore = openStore({ keys: caKeys })
    const cache = await AuthorityCache.open({ ...d, keys: keyStore })
    const oldCert = cache.current.user.tls?.certPem as string
    for (const phase of ['init', 'update_clients'] as const) {
      await rotateCa({ ...d, keys: keyStore }, { type: 'user', phase, user: 'admin' })
    }
    await cache.refresh({ force: true })
    const record = JSON.parse((await d.store.get(caKey('user')))?.value ?? '') as CaRecord
    assert.equal(record.active.tls?.key_ref, `kms:${caKeys['user-tls-1']}`)
    assert.equal(record.active.ssh?.key_ref, `kms:${caKeys['user-ssh-1']}`)
    const user = cache.current.user
    assert.ok(user.tls)
    assert.equal(user.trustedTlsPems.length, 2)
    assert.ok(user.trustedTlsPems.includes(oldCert))
    const subject = parseSpki(
      generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }),
    )
    assert.ok(subject)
    const now = d.clock.now()
    const identity = {
      user: 'bot-kms',
      roles: ['bot-kms'],
      logins: ['ops'],
      generation: 0,
      renewable: false,
      disallowReissue: false,
    }
    const issued = await issueUserCertificates(
      user,
      { identity, publicKey: subject, now, notAfter: new Date(now.getTime() + 3_600_000) },
      cryptoRandom,
    )
    const leaf = new X509Certificate(issued.tlsCertDer)
    assert.equal(leaf.verify(new X509Certificate(user.tls.certPem).publicKey), true)
    assert.equal(leaf.verify(new X509Certificate(oldCert).publicKey), false)
    assert.deepEqual(
      new Uint8Array(new X509Certificate(user.tls.certPem).publicKey.export({ type: 'spki', format: 'der' })),
      new Uint8Array(await kmsPublicKey(caKeys['user-tls-1'] as string)),
    )
    // Completing the rotation leaves the provisioned generation-0 key alone in KMS.
    for (const phase of ['update_servers', 'standby'] as const) {
      await rotateCa({ ...d, keys: keyStore }, { type: 'user', phase, user: 'admin', force: true })
    }
    assert.equal((await keyState(`kms:${caKeys['user-tls']}`))?.KeyState, 'Enabled')
  })

  it('fail/a CA without provisioned next-generation keys is refused at init, naming the label, unchanged', async () => {
    const d = deps()
    const keyStore = openStore({ keys: caKeys })
    await AuthorityCache.open({ ...d, keys: keyStore })
    const before = await d.store.get(caKey('host'))
    await assert.rejects(rotateCa({ ...d, keys: keyStore }, { type: 'host', user: 'admin' }), {
      code: 'ERR_INVALID_CONFIG',
      message: /host-tls-1/,
    })
    assert.equal((await d.store.get(caKey('host')))?.revision, before?.revision)
  })
})

/** Wraps a key store, recording the references passed to delete(). */
function countingDeletes(inner: KeyStore) {
  const deletes: string[] = []
  const keys: KeyStore = {
    supports: (algorithm) => inner.supports(algorithm),
    generate: (algorithm, label) => inner.generate(algorithm, label),
    signer: (ref) => inner.signer(ref),
    delete: (ref) => {
      deletes.push(ref)
      return inner.delete(ref)
    },
  }
  return { keys, deletes }
}

function spki(signer: Signer): KeyObject {
  return createPublicKey({ key: Buffer.from(signer.publicKey), format: 'der', type: 'spki' })
}

/** The same ECDSA signature with a redundant leading zero on r (valid BER, not DER). */
function looseDer(der: Buffer): Buffer {
  const raw = ecdsaDerToRaw(der, 32)
  const r = Buffer.concat([Buffer.from([0, 0]), raw.subarray(0, 32)])
  const s = Buffer.concat([Buffer.from([0]), raw.subarray(32)])
  const body = Buffer.concat([Buffer.from([2, r.length]), r, Buffer.from([2, s.length]), s])
  return Buffer.concat([Buffer.from([0x30, body.length]), body])
}

interface FakeAnswer {
  status: number
  body: Record<string, unknown>
}

interface FakeKms {
  readonly client: KMSClient
  readonly keyId: string
  readonly privateKey: KeyObject
  onGetPublicKey: (() => FakeAnswer) | undefined
  onSign: () => FakeAnswer
  close(): Promise<void>
}

/**
 * A KMS stand-in on 127.0.0.1 speaking KMS's JSON 1.1 protocol: GetPublicKey answers for one
 * P-256 key; Sign answers whatever the test sets. The client makes one attempt per request, so
 * retried errors (throttling, 5xx) reach the adapter at once.
 */
async function startFakeKms(): Promise<FakeKms> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const keyId = 'arn:aws:kms:us-east-1:123456789012:key/0b7d3f2a-1c9e-4e55-9a61-2d8e4c7b1f00'
  const fake = {
    keyId,
    privateKey,
    onGetPublicKey: undefined as (() => FakeAnswer) | undefined,
    onSign: (): FakeAnswer => ({ status: 500, body: { __type: 'KMSInternalException' } }),
  }
  const server: Server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '')
      const answer =
        target === 'TrentService.GetPublicKey'
          ? (fake.onGetPublicKey?.() ?? {
              status: 200,
              body: {
                KeyId: keyId,
                KeySpec: 'ECC_NIST_P256',
                KeyUsage: 'SIGN_VERIFY',
                SigningAlgorithms: ['ECDSA_SHA_256'],
                PublicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
              },
            })
          : target === 'TrentService.Sign'
            ? fake.onSign()
            : { status: 400, body: { __type: 'UnsupportedOperationException' } }
      res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' })
      res.end(JSON.stringify(answer.body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const kms = new KMSClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'fake', secretAccessKey: 'fake' },
    maxAttempts: 1,
  })
  return Object.assign(fake, {
    client: kms,
    async close() {
      kms.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  })
}
