/**
 * OpenSSH host certificates for a bot's `ssh_host` output: an sshd that presents one is trusted
 * by every client whose `known_hosts` has the host CA's `@cert-authority` line.
 *
 * The bot impersonates the output's roles as for any issuance ({@link authorizeImpersonation});
 * one of those roles must allow `create` on `host_cert` in a rule that names `host_cert` (a `*`
 * rule is not enough), and none deny it, since a host certificate lets its holder pose as the
 * named hosts. Principals are host names or addresses;
 * the certificate's key id is the first one. Every issuance and refusal is an audit event.
 */
import { isIP } from 'node:net'
import { BACKDATE_MS } from '../ca/issue-user-certificates.ts'
import { signSshCertificate } from '../ca/ssh/certificate.ts'
import { AccessDeniedError, BadRequestError } from '../errors.ts'
import { ruleAllows } from '../rbac/index.ts'
import type { Rule } from '../resources/types.ts'
import { recordAudit } from './audit.ts'
import type { Caller } from './caller.ts'
import type { AuthDeps } from './deps.ts'
import { authorizeImpersonation } from './impersonate.ts'
import type { CallerPublicKey } from './public-key.ts'

export interface HostCertRequest {
  readonly roles: readonly string[]
  readonly principals: readonly string[]
  readonly ttlMs: number
  readonly publicKey: CallerPublicKey
}

export interface HostCertResponse {
  readonly ssh_host_cert: string
  readonly serial: string
  readonly not_before: string
  readonly not_after: string
  readonly principals: readonly string[]
}

/** Host names, or `*.`-prefixed wildcard names; lower case. */
const HOST_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/

/**
 * A host name or an IPv4/IPv6 address (no zone). Addresses are checked with `isIP`: a character
 * class such as `[0-9a-f:.]+` would also take `...` or `:`, which name no host.
 */
const isPrincipal = (p: string): boolean =>
  HOST_NAME.test(p) || (isIP(p) !== 0 && !p.includes('%') && p === p.toLowerCase())

function namesHostCert(rule: Rule): boolean {
  return rule.resources.includes('host_cert') && (rule.verbs.includes('create') || rule.verbs.includes('*'))
}

export async function issueHostCertificate(
  deps: AuthDeps,
  caller: Caller,
  req: HostCertRequest,
): Promise<HostCertResponse> {
  const bad = req.principals.find((p) => !isPrincipal(p))
  if (req.principals.length === 0 || bad !== undefined) {
    throw new BadRequestError(
      bad === undefined ? 'principals must not be empty' : `"${bad}" is not a host name or address`,
    )
  }
  try {
    return await issue(deps, caller, req)
  } catch (err) {
    if (err instanceof AccessDeniedError) {
      await recordAudit(deps, {
        type: 'host_cert.issued',
        user: caller.identity.user,
        success: false,
        fields: { roles: req.roles, principals: req.principals, reason: err.message },
      })
    }
    throw err
  }
}

async function issue(deps: AuthDeps, caller: Caller, req: HostCertRequest): Promise<HostCertResponse> {
  const { requested, roles, now, notAfter } = await authorizeImpersonation(deps, caller, req)
  const decision = ruleAllows(roles, 'host_cert', 'create')
  if (!decision.allowed) {
    throw new AccessDeniedError(
      `${requested.join(', ')} may not create host certificates: ${decision.reason}`,
    )
  }
  // A host certificate lets its holder pose as any host it names, so it takes a rule that names
  // host_cert: a `resources: ['*']` rule written before host certificates existed grants none.
  if (!roles.some((role) => role.spec.allow.rules.some(namesHostCert))) {
    throw new AccessDeniedError(
      `${requested.join(', ')} may not create host certificates: no role has a rule naming host_cert (a * rule does not count)`,
    )
  }

  const ssh = deps.cas.host.ssh
  if (!ssh) throw new TypeError('the host CA has no SSH key')
  const serial = deps.random.bytes(8)
  const notBefore = new Date(now.getTime() - BACKDATE_MS)
  const cert = await signSshCertificate(
    {
      type: 'host',
      publicKey: req.publicKey,
      keyId: req.principals[0] ?? '',
      principals: req.principals,
      serial: Buffer.from(serial).readBigUInt64BE(0),
      validAfter: notBefore,
      validBefore: notAfter,
      nonce: deps.random.bytes(32),
    },
    ssh.signer,
  )
  const serialHex = Buffer.from(serial).toString('hex')
  await recordAudit(deps, {
    type: 'host_cert.issued',
    user: caller.identity.user,
    success: true,
    fields: {
      roles: requested,
      principals: req.principals,
      serial: serialHex,
      expires: notAfter.toISOString(),
    },
  })
  return {
    ssh_host_cert: cert.line,
    serial: serialHex,
    not_before: notBefore.toISOString(),
    not_after: notAfter.toISOString(),
    principals: req.principals,
  }
}
