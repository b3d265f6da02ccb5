/**
 * An auth service on in-memory ports with a frozen clock, and a client whose fetch goes straight
 * to `app.request` (no sockets). Used by the HTTP tests.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { resolve } from 'node:path'
import { MemoryKeyStore } from '../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../lib/adapters/memory/store.ts'
import { issueAdminIdentity } from '../../lib/auth/admin.ts'
import { addJoinToken } from '../../lib/auth/bots.ts'
import { parseCallerPublicKey } from '../../lib/auth/public-key.ts'
import { type AuthService, createAuthService } from '../../lib/auth/service.ts'
import { AuthClient, type ClientIdentity } from '../../lib/bot/auth-client.ts'
import { generateClientKey } from '../../lib/bot/keys.ts'
import { loadDocuments } from '../../lib/cli/load-documents.ts'
import { ManualClock } from '../../lib/clock.ts'
import { silentLogger } from '../../lib/log.ts'
import { cryptoRandom } from '../../lib/random.ts'
import { applyResources } from '../../lib/services/apply.ts'

export const BASE_URL = 'http://auth.test'

export interface AuthHarness {
  readonly service: AuthService
  readonly clock: ManualClock
  readonly store: MemoryStore
  readonly client: AuthClient
  /** Raw access to the app, for requests the client would never send. */
  readonly fetch: (url: string, init?: RequestInit) => Promise<Response>
}

export async function authHarness(): Promise<AuthHarness> {
  const clock = new ManualClock(Date.UTC(2026, 10, 22, 12))
  const store = new MemoryStore({ clock })
  const service = await createAuthService({
    clusterName: 'test.local',
    publicAddr: BASE_URL,
    store,
    keys: new MemoryKeyStore(),
    clock,
    random: cryptoRandom,
    log: silentLogger,
  })
  await applyResources(service.deps.resources, loadDocuments(resolve('examples/cluster')))
  const fetch = async (url: string, init?: RequestInit) => service.app.request(url, init)
  return { service, clock, store, client: new AuthClient({ baseUrl: BASE_URL, fetch, clock }), fetch }
}

export interface KeyPair {
  readonly key: KeyObject
  readonly publicPem: string
}

export function newKey(type: 'ec' | 'ed25519' = 'ec'): KeyPair {
  const pair =
    type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519')
  return { key: pair.privateKey, publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string }
}

/** Creates bot `example` (roles of the example cluster) and joins it; returns its identity. */
export async function joinedBot(h: AuthHarness, roles: readonly string[] = ['access', 'machine-id-db']) {
  const bot = await h.service.deps.resources.get('bot', 'example')
  await h.service.deps.resources.update({ ...bot, spec: { ...bot.spec, roles } })
  const { token } = await addJoinToken(h.service.deps, 'example')
  const kp = newKey()
  const res = await h.client.join(token, kp.publicPem, 3600)
  const identity: ClientIdentity = { key: kp.key, tlsCertPem: res.tls_cert }
  return { token, response: res, identity, key: kp }
}

/** An administrator (`issueAdminIdentity`), certified by the user CA's current signing key. */
export async function adminIdentity(h: AuthHarness, ttlMs = 3600_000): Promise<ClientIdentity> {
  const key = generateClientKey()
  const certs = await issueAdminIdentity(h.service.deps, parseCallerPublicKey(key.publicPem), ttlMs)
  return { key: key.privateKey, tlsCertPem: certs.tlsCertPem }
}

/** A client whose fetch records each response status (the client only returns bodies). */
export function recordingClient(h: AuthHarness) {
  const statuses: number[] = []
  const client = new AuthClient({
    baseUrl: BASE_URL,
    clock: h.clock,
    fetch: async (url, init) => {
      const res = await h.fetch(url, init)
      statuses.push(res.status)
      return res
    },
  })
  return { client, lastStatus: () => statuses.at(-1) }
}

/** Asserts that `promise` fails with the answer's code and HTTP status (and message, if given). */
export async function rejects(promise: Promise<unknown>, code: string, status: number, message?: RegExp) {
  await assert.rejects(promise, (err: { code?: string; status?: number; message: string }) => {
    assert.equal(err.code, code, err.message)
    assert.equal(err.status, status, err.message)
    if (message) assert.match(err.message, message)
    return true
  })
}
