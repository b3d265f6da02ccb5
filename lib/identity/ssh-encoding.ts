/**
 * An {@link Identity} in an OpenSSH certificate: key id = user, principals = logins, and one
 * extension per identity field, named `<field>@credbroker` so `ssh-keygen -L` lists them. Flags
 * (`renewable@credbroker`, `disallow-reissue@credbroker`) are present only when true.
 */
import { type Identity, SSH_EXTENSION_DOMAIN } from './identity.ts'

/** Extensions OpenSSH itself understands, granted to every credbroker user certificate. */
const STANDARD_EXTENSIONS = { 'permit-pty': '', 'permit-port-forwarding': '', 'permit-agent-forwarding': '' }

const ext = (name: string) => `${name}${SSH_EXTENSION_DOMAIN}`

/** The certificate extensions encoding `identity`. */
export function sshIdentityExtensions(identity: Identity): Record<string, string> {
  const out: Record<string, string> = {
    ...STANDARD_EXTENSIONS,
    [ext('roles')]: JSON.stringify(identity.roles),
  }
  if (identity.botName !== undefined) out[ext('bot-name')] = identity.botName
  if (identity.botInstanceId !== undefined) out[ext('bot-instance-id')] = identity.botInstanceId
  if (identity.generation > 0) out[ext('generation')] = String(identity.generation)
  if (identity.renewable) out[ext('renewable')] = ''
  if (identity.disallowReissue) out[ext('disallow-reissue')] = ''
  if (identity.impersonator !== undefined) out[ext('impersonator')] = identity.impersonator
  return out
}
