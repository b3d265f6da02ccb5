/**
 * {@link KeyStore} of PKCS #8 PEM files in one directory (the embedded mode). The directory is
 * created 0700 and each key file 0600 with O_EXCL|O_NOFOLLOW, so a key is never written through
 * a planted symlink and never overwritten. References are `file:<name>`; names are generated
 * here, so a reference from the state store cannot point outside the directory.
 */
import {
  chmodSync,
  closeSync,
  constants,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { InvalidConfigError, NotFoundError, StoreUnavailableError } from '../../errors.ts'
import type { KeyStore } from '../../ports/key-store.ts'
import type { SignatureAlgorithm, Signer } from '../../ports/signer.ts'
import { cryptoRandom, type Random } from '../../random.ts'
import { LocalSigner } from './signer.ts'

/** What a node:crypto key (and so the file and memory stores) can be: every SignatureAlgorithm. */
export const LOCAL_SIGNATURE_ALGORITHMS: ReadonlySet<SignatureAlgorithm> = new Set<SignatureAlgorithm>([
  'ecdsa-p256-sha256',
  'ed25519',
  'rsa-pkcs1-sha256',
])

const REF = /^file:([a-z0-9-]{1,64}-[0-9a-f-]{36}\.pem)$/
const LABEL = /^[a-z0-9-]{1,64}$/

export class FileKeyStore implements KeyStore {
  readonly #dir: string
  readonly #random: Random
  readonly #cache = new Map<string, Signer>()

  constructor(options: { dir: string; random?: Random }) {
    this.#dir = options.dir
    this.#random = options.random ?? cryptoRandom
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 })
    const stat = lstatSync(this.#dir)
    if (stat.isSymbolicLink() || !stat.isDirectory()) {
      throw new InvalidConfigError('keyDir', `${this.#dir} must be a directory, not a symlink`)
    }
    // An existing directory may have been created with a looser umask: keys are for us alone.
    if ((stat.mode & 0o077) !== 0) chmodSync(this.#dir, 0o700)
  }

  supports(algorithm: SignatureAlgorithm): boolean {
    return LOCAL_SIGNATURE_ALGORITHMS.has(algorithm)
  }

  async generate(algorithm: SignatureAlgorithm, label: string): Promise<{ ref: string; signer: Signer }> {
    if (!LABEL.test(label)) throw new TypeError(`bad key label ${label}`)
    const name = `${label}-${this.#random.uuid()}.pem`
    const signer = LocalSigner.generate(algorithm)
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW
    const fd = openSync(join(this.#dir, name), flags, 0o600)
    try {
      writeSync(fd, signer.exportPkcs8Pem())
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    const ref = `file:${name}`
    this.#cache.set(ref, signer)
    return { ref, signer }
  }

  async delete(ref: string): Promise<void> {
    this.#cache.delete(ref)
    const name = REF.exec(ref)?.[1]
    if (name) rmSync(join(this.#dir, name), { force: true })
  }

  async signer(ref: string): Promise<Signer> {
    const cached = this.#cache.get(ref)
    if (cached) return cached
    const name = REF.exec(ref)?.[1]
    if (!name) throw new NotFoundError(`CA key ${ref} not found`)
    let pem: string
    try {
      const fd = openSync(join(this.#dir, name), constants.O_RDONLY | constants.O_NOFOLLOW)
      try {
        pem = readFileSync(fd, 'utf8')
      } finally {
        closeSync(fd)
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`CA key ${ref} not found`)
      throw new StoreUnavailableError(`CA key ${ref} cannot be read`, { cause: err })
    }
    const signer = LocalSigner.fromPkcs8Pem(pem)
    this.#cache.set(ref, signer)
    return signer
  }
}
