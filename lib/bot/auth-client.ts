/**
 * The bot's client for the auth HTTP API. `fetch` is injectable: tests route it to
 * `app.request`, production uses the global one. Authenticated calls sign each request with
 * proof of possession of the current identity's key.
 */

import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto'
import type { IssueResponse } from '../auth/issue-response.ts'
import { createPopSigner, type PopSigner } from '../auth/pop/client.ts'
import type { JwtSvidResponse, X509SvidResponse } from '../auth/svid.ts'
import type { RotationPhase } from '../ca/rotation-phases.ts'
import type { Clock } from '../clock.ts'
import { UpstreamUnavailableError } from '../errors.ts'
import { cryptoRandom, type Random, randomHex } from '../random.ts'
import type { SignedStsRequest } from './iam-signer.ts'
import { readAnswer } from './remote-error.ts'

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>

export interface AuthClientOptions {
  /** Base URL of the auth service, e.g. `http://127.0.0.1:3025`. */
  readonly baseUrl: string
  readonly fetch?: Fetch
  readonly clock?: Clock
  readonly random?: Random
  /** Per-request timeout. */
  readonly timeoutMs?: number
}

/** The key and certificate a client authenticates with. */
export interface ClientIdentity {
  readonly key: KeyObject
  readonly tlsCertPem: string
}

/** The resource an impersonated certificate is for, as `/v1/certs` takes it. */
export type CertsRoute =
  | {
      readonly database: { readonly service: string; readonly username?: string; readonly database?: string }
    }
  | { readonly kubernetes_cluster: string }
  | { readonly app: string }

export type { JwtSvidResponse, X509SvidResponse } from '../auth/svid.ts'

export interface HostCertResponse {
  readonly ssh_host_cert: string
  readonly serial: string
  readonly not_before: string
  readonly not_after: string
  readonly principals: readonly string[]
}

export interface CaBundleResponse {
  readonly cluster_name: string
  readonly tls: {
    readonly user: readonly string[]
    readonly host: readonly string[]
    readonly db: readonly string[]
  }
  readonly ssh: { readonly user: readonly string[]; readonly host: readonly string[] }
  readonly known_hosts: string
  readonly jwks: { readonly keys: readonly object[] }
  /**
   * Per CA: its rotation phase and the fingerprints of the key set that signs now (see
   * `lib/http/cas.ts`); absent from servers without CA rotation.
   */
  readonly rotation?: Readonly<
    Record<
      string,
      { readonly phase: RotationPhase; readonly tls?: string; readonly ssh?: string; readonly jwt?: string }
    >
  >
}

/** `POST /v1/join/iam/challenge`: a fresh single-use challenge for one IAM join. */
export interface IamChallengeResponse {
  readonly challenge: string
  /** ISO 8601 instant after which the server refuses the challenge. */
  readonly expires: string
}

export interface IamJoinRequest {
  /** The name of the `iam` join token (not a secret). */
  readonly token: string
  readonly publicKeyPem: string
  readonly ttlSeconds?: number
  /** The signed, unsent `sts:GetCallerIdentity` request (see `iam-signer.ts`). */
  readonly stsRequest: SignedStsRequest
}

export class AuthClient {
  readonly #base: string
  readonly #fetch: Fetch
  readonly #options: AuthClientOptions
  #signer: { identity: ClientIdentity; pop: PopSigner } | undefined

  constructor(options: AuthClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, '')
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init))
    this.#options = options
  }

  /** The origin of the auth server this client calls: the audience its IAM joins are signed for. */
  get origin(): string {
    return new URL(this.#base).origin
  }

  ping(): Promise<{ cluster_name: string; public_addr: string }> {
    return this.#call('GET', '/v1/ping')
  }

  cas(): Promise<CaBundleResponse> {
    return this.#call('GET', '/v1/cas')
  }

  join(token: string, publicKeyPem: string, ttlSeconds: number): Promise<IssueResponse> {
    return this.#call('POST', '/v1/join', { token, public_key: publicKeyPem, ttl_seconds: ttlSeconds })
  }

  /** Asks for a challenge to sign into an IAM join (`token` is the `iam` token's name). */
  iamChallenge(token: string): Promise<IamChallengeResponse> {
    return this.#call('POST', '/v1/join/iam/challenge', { token })
  }

  /**
   * Joins with the `iam` method. With `as` (the bot's current, still valid identity) the request
   * carries proof of possession, so the server keeps the bot instance.
   */
  joinIam(req: IamJoinRequest, as?: ClientIdentity): Promise<IssueResponse> {
    const body = {
      token: req.token,
      public_key: req.publicKeyPem,
      ...(req.ttlSeconds !== undefined && { ttl_seconds: req.ttlSeconds }),
      sts_request: req.stsRequest,
    }
    return this.#call('POST', '/v1/join/iam', body, as)
  }

  /**
   * Renews the renewable identity `as` for a new key. `requestId` names this renewal: sending the
   * same id, key and `as` again is a retry, answered with the same generation (see
   * docs/RENEWAL.md), so a bot that may have to retry must save the id and the key before the
   * first call. Without one a fresh random id is used: such a call cannot be retried.
   */
  renew(
    as: ClientIdentity,
    publicKeyPem: string,
    ttlSeconds: number,
    requestId: string = randomHex(this.#options.random ?? cryptoRandom, 16),
  ): Promise<IssueResponse> {
    const body = { public_key: publicKeyPem, ttl_seconds: ttlSeconds, request_id: requestId }
    return this.#call('POST', '/v1/renew', body, as)
  }

  certs(
    as: ClientIdentity,
    req: { publicKeyPem: string; roles: readonly string[]; ttlSeconds: number; route?: CertsRoute },
  ): Promise<IssueResponse> {
    const body = {
      public_key: req.publicKeyPem,
      roles: req.roles,
      ttl_seconds: req.ttlSeconds,
      ...(req.route && { route: req.route }),
    }
    return this.#call('POST', '/v1/certs', body, as)
  }

  hostCerts(
    as: ClientIdentity,
    req: {
      publicKeyPem: string
      roles: readonly string[]
      principals: readonly string[]
      ttlSeconds: number
    },
  ): Promise<HostCertResponse> {
    const body = {
      public_key: req.publicKeyPem,
      roles: req.roles,
      principals: req.principals,
      ttl_seconds: req.ttlSeconds,
    }
    return this.#call('POST', '/v1/certs/host', body, as)
  }

  x509Svid(
    as: ClientIdentity,
    req: { publicKeyPem: string; roles: readonly string[]; path: string; ttlSeconds: number },
  ): Promise<X509SvidResponse> {
    const body = {
      public_key: req.publicKeyPem,
      roles: req.roles,
      path: req.path,
      ttl_seconds: req.ttlSeconds,
    }
    return this.#call('POST', '/v1/svid/x509', body, as)
  }

  jwtSvid(
    as: ClientIdentity,
    req: { roles: readonly string[]; path: string; audiences: readonly string[]; ttlSeconds: number },
  ): Promise<JwtSvidResponse> {
    const body = { roles: req.roles, path: req.path, audiences: req.audiences, ttl_seconds: req.ttlSeconds }
    return this.#call('POST', '/v1/svid/jwt', body, as)
  }

  heartbeat(
    as: ClientIdentity,
    beat: {
      hostname: string
      version: string
      one_shot: boolean
      is_startup: boolean
      uptime_seconds: number
    },
  ): Promise<unknown> {
    return this.#call('POST', '/v1/heartbeat', beat, as)
  }

  /** Any authenticated call, for admin tooling. */
  request<T>(as: ClientIdentity, method: string, path: string, body?: unknown): Promise<T> {
    return this.#call(method, path, body, as)
  }

  async #call<T>(method: string, path: string, body?: unknown, as?: ClientIdentity): Promise<T> {
    const url = `${this.#base}${path}`
    const text = body === undefined ? undefined : JSON.stringify(body)
    const headers: Record<string, string> = { accept: 'application/json' }
    if (text !== undefined) headers['content-type'] = 'application/json'
    if (as)
      headers.authorization = await this.#pop(as).sign({
        method,
        url,
        ...(text !== undefined && { body: text }),
      })
    let response: Response
    try {
      response = await this.#fetch(url, {
        method,
        headers,
        ...(text !== undefined && { body: text }),
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 30_000),
      })
    } catch (err) {
      throw new UpstreamUnavailableError(`auth server ${this.#base} is unreachable`, { cause: err })
    }
    return readAnswer<T>(response)
  }

  #pop(identity: ClientIdentity): PopSigner {
    if (this.#signer?.identity !== identity) {
      const leaf = new X509Certificate(identity.tlsCertPem)
      this.#signer = {
        identity,
        pop: createPopSigner({
          key: identity.key,
          chain: [leaf.raw],
          ...(this.#options.clock && { clock: this.#options.clock }),
          ...(this.#options.random && { random: this.#options.random }),
        }),
      }
    }
    return this.#signer.pop
  }
}

/** Loads a PKCS #8 PEM private key. */
export const privateKeyFromPem = (pem: string): KeyObject => createPrivateKey({ key: pem, format: 'pem' })
