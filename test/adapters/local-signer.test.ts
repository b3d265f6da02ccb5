/**
 * The local signer (a node:crypto key in this process) and the key stores that hand it out
 * (memory, and 0600 PEM files for the embedded mode): the Signer conformance suite for each
 * algorithm and each way of obtaining a signer, then the file store's own safety rules.
 */
import assert from 'node:assert/strict'
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, afterEach, beforeEach, describe, it } from 'node:test'
import { FileKeyStore } from '../../lib/adapters/local/key-store.ts'
import { LocalSigner } from '../../lib/adapters/local/signer.ts'
import { MemoryKeyStore } from '../../lib/adapters/memory/key-store.ts'
import type { KeyStore } from '../../lib/ports/key-store.ts'
import type { SignatureAlgorithm, Signer } from '../../lib/ports/signer.ts'
import { sequenceRandom } from '../../lib/random.ts'
import { nodeVerify, runSignerConformance, type SignerHarness } from '../conformance/signer.suite.ts'

const ALGORITHMS: readonly SignatureAlgorithm[] = ['ecdsa-p256-sha256', 'ed25519', 'rsa-pkcs1-sha256']
const noCleanup = async () => {}
const tempDirs: string[] = []

function tempRoot(): string {
  const dir = mkdtempSync(join(realpathSync(tmpdir()), 'credbroker-keys-'))
  tempDirs.push(dir)
  return dir
}

after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})

/**
 * RSA key generation takes about 0.2 s, so an RSA harness is built once and shared by the tests
 * of its suite; ECDSA and Ed25519 harnesses are fresh for every test.
 */
function harnesses(algorithm: SignatureAlgorithm, build: () => Promise<SignerHarness>) {
  if (algorithm !== 'rsa-pkcs1-sha256') return build
  let shared: Promise<SignerHarness> | undefined
  return async (): Promise<SignerHarness> => {
    shared ??= build()
    return { signer: (await shared).signer, cleanup: noCleanup }
  }
}

for (const algorithm of ALGORITHMS) {
  runSignerConformance(
    `LocalSigner ${algorithm}`,
    harnesses(algorithm, async () => ({ signer: LocalSigner.generate(algorithm), cleanup: noCleanup })),
  )

  runSignerConformance(
    `MemoryKeyStore ${algorithm}`,
    harnesses(algorithm, async () => {
      const keys = new MemoryKeyStore()
      const { ref } = await keys.generate(algorithm, 'conformance')
      return { signer: await keys.signer(ref), cleanup: noCleanup }
    }),
  )

  runSignerConformance(
    `FileKeyStore ${algorithm} (reloaded from disk by a second instance)`,
    harnesses(algorithm, async () => {
      const root = tempRoot()
      const dir = join(root, 'keys')
      const { ref } = await new FileKeyStore({ dir }).generate(algorithm, 'conformance')
      const signer = await new FileKeyStore({ dir }).signer(ref)
      return { signer, cleanup: async () => rmSync(root, { recursive: true, force: true }) }
    }),
  )
}

const mode = (path: string) => statSync(path).mode & 0o777

/** Asserts a rejection with a BrokerError carrying `code`. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal((err as { code?: string }).code, code, `expected ${code}, got ${String(err)}`)
    return true
  })
}

/** A PKCS #8 PEM of a fresh P-256 key: bait that a store must never load from outside its dir. */
function baitPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string
}

describe('LocalSigner', () => {
  it('fail/a public key is refused (a signer needs the private half)', () => {
    const { publicKey } = generateKeyPairSync('ed25519')
    assert.throws(() => new LocalSigner(publicKey), TypeError)
  })

  for (const [label, key] of [
    ['P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey],
    ['X25519', () => generateKeyPairSync('x25519').privateKey],
  ] as const) {
    it(`fail/an unsupported ${label} key is refused`, () => {
      assert.throws(() => new LocalSigner(key()), TypeError)
    })
  }

  it('ok/exportPkcs8Pem → fromPkcs8Pem keeps the key', async () => {
    const signer = LocalSigner.generate('ed25519')
    const again = LocalSigner.fromPkcs8Pem(signer.exportPkcs8Pem())
    assert.equal(again.algorithm, 'ed25519')
    assert.deepEqual(again.publicKey, signer.publicKey)
    const data = new TextEncoder().encode('round trip')
    const key = createPublicKey({ key: Buffer.from(signer.publicKey), format: 'der', type: 'spki' })
    assert.equal(nodeVerify('ed25519', key, data, await again.sign(data)), true)
  })
})

describe('MemoryKeyStore', () => {
  it('fail/an unknown reference is ERR_NOT_FOUND', async () => {
    await rejectsWith(new MemoryKeyStore().signer('memory:user-tls:nope'), 'ERR_NOT_FOUND')
  })

  it('ok/references are distinct and return the generated signer', async () => {
    const keys: KeyStore = new MemoryKeyStore()
    const a = await keys.generate('ed25519', 'user-ssh')
    const b = await keys.generate('ed25519', 'user-ssh')
    assert.notEqual(a.ref, b.ref)
    assert.equal(await keys.signer(a.ref), a.signer)
    assert.notDeepEqual(a.signer.publicKey, b.signer.publicKey)
  })
})

describe('FileKeyStore', () => {
  let root: string
  let dir: string

  beforeEach(() => {
    root = mkdtempSync(join(realpathSync(tmpdir()), 'credbroker-filekeys-'))
    dir = join(root, 'keys')
  })
  afterEach(() => {
    rmSync(root, { recursive: true, force: true })
  })

  it('ok/creates the directory 0700 and each key file 0600', async () => {
    const keys = new FileKeyStore({ dir })
    const { ref } = await keys.generate('ecdsa-p256-sha256', 'user-tls')
    await keys.generate('ed25519', 'user-ssh')

    assert.equal(mode(dir), 0o700)
    const files = readdirSync(dir)
    assert.equal(files.length, 2)
    for (const file of files) assert.equal(mode(join(dir, file)), 0o600, file)
    assert.ok(files.includes(ref.replace(/^file:/, '')), `${ref} names a file in ${files.join(', ')}`)
  })

  it('ok/a fresh instance loads a key generated by another; signatures verify with the first public key', async () => {
    const first = new FileKeyStore({ dir })
    const { ref, signer } = await first.generate('ecdsa-p256-sha256', 'host-tls')

    const reloaded: Signer = await new FileKeyStore({ dir }).signer(ref)
    const data = new TextEncoder().encode('signed after a restart')
    const signature = await reloaded.sign(data)

    assert.equal(reloaded.algorithm, 'ecdsa-p256-sha256')
    assert.deepEqual(reloaded.publicKey, signer.publicKey)
    const firstKey = createPublicKey({ key: Buffer.from(signer.publicKey), format: 'der', type: 'spki' })
    assert.equal(nodeVerify('ecdsa-p256-sha256', firstKey, data, signature), true)
  })

  it('fail/a well-formed reference to a key that does not exist is ERR_NOT_FOUND', async () => {
    const keys = new FileKeyStore({ dir })
    await rejectsWith(keys.signer('file:user-tls-00000000-0000-4000-8000-000000000000.pem'), 'ERR_NOT_FOUND')
  })

  const refusedRefs: ReadonlyArray<readonly [string, (root: string) => string]> = [
    [
      'fail/parent directory (file:../x.pem)',
      (r) => {
        writeFileSync(join(r, 'x.pem'), baitPem())
        return 'file:../x.pem'
      },
    ],
    ['fail/absolute path (file:/etc/passwd)', () => 'file:/etc/passwd'],
    [
      'fail/absolute path to a valid key file',
      (r) => {
        writeFileSync(join(r, 'bait.pem'), baitPem())
        return `file:${join(r, 'bait.pem')}`
      },
    ],
    [
      'fail/a subdirectory of the key directory',
      (r) => {
        const name = 'a-00000000-0000-4000-8000-000000000000.pem'
        mkdirSync(join(r, 'keys', 'sub'))
        writeFileSync(join(r, 'keys', 'sub', name), baitPem())
        return `file:sub/${name}`
      },
    ],
    ['fail/another scheme', () => 'memory:user-tls:1'],
    ['fail/an empty reference', () => ''],
  ]
  for (const [title, plant] of refusedRefs) {
    // Every bait file exists and holds a valid key, so loading it would succeed: ERR_NOT_FOUND
    // shows the reference was refused before any file was read.
    it(`${title} is ERR_NOT_FOUND and reads no file`, async () => {
      const keys = new FileKeyStore({ dir })
      const ref = plant(root)
      await rejectsWith(keys.signer(ref), 'ERR_NOT_FOUND')
    })
  }

  it('fail/a symlink planted at the key directory is refused', () => {
    const target = join(root, 'elsewhere')
    mkdirSync(target, { mode: 0o700 })
    symlinkSync(target, dir)

    assert.throws(
      () => new FileKeyStore({ dir }),
      (err: unknown) => {
        assert.equal((err as { code?: string }).code, 'ERR_INVALID_CONFIG')
        return true
      },
    )
    assert.deepEqual(readdirSync(target), [])
  })

  it('fail/a regular file at the key directory path is refused', () => {
    writeFileSync(dir, 'not a directory')
    assert.throws(() => new FileKeyStore({ dir }))
  })

  it('fail/a symlink planted at a key file is not followed when loading', async () => {
    // The reference is well-formed and the link points at a valid key: O_NOFOLLOW must refuse it.
    mkdirSync(dir, { mode: 0o700 })
    const name = 'user-tls-00000000-0000-4000-8000-000000000001.pem'
    writeFileSync(join(root, 'bait.pem'), baitPem())
    symlinkSync(join(root, 'bait.pem'), join(dir, name))

    await rejectsWith(new FileKeyStore({ dir }).signer(`file:${name}`), 'ERR_STORE_UNAVAILABLE')
  })

  it('fail/generate never writes through a symlink planted at the next key name', async () => {
    // sequenceRandom makes the next file name predictable, as an attacker's guess would be.
    const predicted = `user-tls-${sequenceRandom(7).uuid()}.pem`
    const victim = join(root, 'victim.txt')
    writeFileSync(victim, 'untouched')
    const keys = new FileKeyStore({ dir, random: sequenceRandom(7) })
    symlinkSync(victim, join(dir, predicted))

    await assert.rejects(keys.generate('ecdsa-p256-sha256', 'user-tls'), /EEXIST/)
    assert.equal(readFileSync(victim, 'utf8'), 'untouched')
    assert.ok(lstatSync(join(dir, predicted)).isSymbolicLink())
  })

  it('fail/a label outside [a-z0-9-] is a programmer error', async () => {
    const keys = new FileKeyStore({ dir })
    for (const label of ['', '../x', 'UPPER', 'a/b', 'x'.repeat(65)])
      await assert.rejects(keys.generate('ed25519', label), TypeError, label)
    assert.deepEqual(readdirSync(dir), [])
  })

  it('ok/the key directory may be nested; parents are created', async () => {
    const nested = join(root, 'a', 'b', 'keys')
    const { ref } = await new FileKeyStore({ dir: nested }).generate('ed25519', 'jwt')
    assert.equal(mode(nested), 0o700)
    assert.equal(dirname(join(nested, ref.replace(/^file:/, ''))), nested)
  })
})
