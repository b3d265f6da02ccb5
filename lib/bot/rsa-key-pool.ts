/**
 * RSA 2048 client keys for database outputs whose servers need RSA, generated off the hot path:
 * generation (tens to hundreds of milliseconds of CPU) runs on libuv's thread pool, and the pool
 * keeps one key ready, so an issuance takes a finished key while the next one is made in the
 * background — during the join's network round trips in a one-shot run, between cycles in a
 * daemon. A key is handed out once and never reused.
 */
import { generateKeyPair, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import { authorizedKeyLine } from '../ca/ssh/public-key.ts'
import type { ClientKey } from './keys.ts'

const generate = promisify(generateKeyPair)

export const RSA_CLIENT_KEY_BITS = 2048

export class RsaKeyPool {
  #next: Promise<ClientKey> | undefined

  /** Starts making the first key now (call it when the bot starts). */
  warm(): void {
    this.#next ??= makeKey()
    // A failed background generation is reported by take(), not as an unhandled rejection.
    this.#next.catch(() => {})
  }

  /** A fresh key, and the next one starts generating. */
  async take(): Promise<ClientKey> {
    const key = this.#next ?? makeKey()
    this.#next = makeKey()
    this.#next.catch(() => {})
    return key
  }
}

async function makeKey(): Promise<ClientKey> {
  const { privateKey, publicKey } = (await generate('rsa', {
    modulusLength: RSA_CLIENT_KEY_BITS,
    publicExponent: 0x10001,
  })) as { privateKey: KeyObject; publicKey: KeyObject }
  return {
    privateKey,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    sshPublic: authorizedKeyLine(publicKey),
  }
}
