/**
 * `credbroker doctor`: recognises each symptom of the Machine ID troubleshooting guide in a bot's
 * configuration, storage, outputs and auth service, and says what it is and how to fix it.
 *
 * | finding                    | how it is recognised                                                       |
 * |----------------------------|-----------------------------------------------------------------------------|
 * | `config_invalid`           | the config does not parse; `kube_exec_plugin_destination` for the exec-plugin case |
 * | `auth_unreachable`         | `GET /v1/ping` fails                                                         |
 * | `auth_address_mismatch`    | the address the service advertises differs from the configured one           |
 * | `not_joined`               | a token-joined bot's storage holds no identity                               |
 * | `identity_expired`         | the stored identity's certificate has expired                                |
 * | `generation_mismatch_lock` | an authenticated read is refused by a lock whose message says so             |
 * | `locked`                   | any other lock in force                                                      |
 * | `ssh_principal_not_granted`| `--login` is not a principal of an identity output's SSH certificate         |
 * | `database_not_found`       | a database output's service is invisible to its roles (`?as_roles=`)         |
 *
 * Read-only: it renews nothing, issues nothing, writes nothing (the one authenticated request is
 * a listing). Findings come back in the order above; an empty list means nothing was found.
 */
import { X509Certificate } from 'node:crypto'
import type { AuthClient, ClientIdentity } from '../bot/auth-client.ts'
import type { BotConfig, OutputConfig } from '../bot/config.ts'
import { sshCertificateFields } from '../ca/ssh/certificate-fields.ts'
import type { Clock } from '../clock.ts'
import { isBrokerError } from '../errors.ts'
import { decodeIdentity } from '../identity/x509-encoding.ts'
import type { Destination } from '../ports/destination.ts'
import type { DatabaseExplanation } from './explain-database.ts'

export type FindingCode =
  | 'config_invalid'
  | 'kube_exec_plugin_destination'
  | 'auth_unreachable'
  | 'auth_address_mismatch'
  | 'not_joined'
  | 'identity_expired'
  | 'generation_mismatch_lock'
  | 'locked'
  | 'ssh_principal_not_granted'
  | 'database_not_found'

export interface Finding {
  readonly code: FindingCode
  /** One line: what is wrong. */
  readonly summary: string
  /** What was seen (values, messages). */
  readonly details: readonly string[]
  /** What to do, in order. */
  readonly fix: readonly string[]
}

export interface StoredBotIdentity {
  readonly identity: ClientIdentity
  readonly notAfter: Date
  readonly botInstanceId: string
  readonly generation: number
}

export interface DoctorDeps {
  readonly config: BotConfig
  readonly client: AuthClient
  readonly clock: Clock
  /** The bot's stored identity (token joins), or undefined when there is none. */
  readonly storedIdentity: () => Promise<StoredBotIdentity | undefined>
  /** An output's destination, to read what the bot last wrote. */
  readonly destination: (output: OutputConfig) => Destination | undefined
  /** With access to the state (embedded mode): why a database is invisible, role by role. */
  readonly explainDatabase?: (service: string, roles: readonly string[]) => Promise<DatabaseExplanation>
  /** `--login`: the SSH login the user tried. */
  readonly login?: string
  /** `CREDBROKER_USE_PROXY_ADDR=yes`: the configured address is kept on purpose. */
  readonly keepConfiguredAddress: boolean
}

export async function diagnose(deps: DoctorDeps): Promise<Finding[]> {
  const findings: Finding[] = []
  const reachable = await checkAuthService(deps, findings)
  const stored = await checkStoredIdentity(deps, findings)
  if (reachable && stored && stored.notAfter > deps.clock.now()) await checkLocks(deps, stored, findings)
  await checkSshPrincipals(deps, findings)
  if (reachable && stored && stored.notAfter > deps.clock.now()) await checkDatabases(deps, stored, findings)
  return findings
}

async function checkAuthService(deps: DoctorDeps, findings: Finding[]): Promise<boolean> {
  let ping: { cluster_name: string; public_addr: string }
  try {
    ping = await deps.client.ping()
  } catch (err) {
    findings.push({
      code: 'auth_unreachable',
      summary: `the auth service at ${deps.config.authServer} cannot be reached`,
      details: [errorText(err)],
      fix: ['Check auth_server in the config, DNS and the network path from this host.'],
    })
    return false
  }
  const advertised = normalized(ping.public_addr)
  if (
    advertised !== undefined &&
    advertised !== normalized(deps.config.authServer) &&
    !deps.keepConfiguredAddress
  ) {
    findings.push({
      code: 'auth_address_mismatch',
      summary: `the auth service advertises ${advertised}, but the config uses ${deps.config.authServer}`,
      details: [
        `cluster ${ping.cluster_name}. The bot always uses its configured address; the service checks each`,
        'proof of possession against the URL it believes it serves, so a bot addressing it by another name',
        '(split DNS, an internal and an external address) can be refused with a URL mismatch.',
      ],
      fix: [
        `If the bot's requests are refused (url_mismatch), set auth_server: ${advertised} in the config.`,
        'If the configured address is intended and works (split DNS), set CREDBROKER_USE_PROXY_ADDR=yes to',
        'keep it and silence this check.',
      ],
    })
  }
  return true
}

async function checkStoredIdentity(deps: DoctorDeps, findings: Finding[]) {
  if (deps.config.onboarding.joinMethod !== 'token') return undefined
  const stored = await deps.storedIdentity()
  if (!stored) {
    findings.push({
      code: 'not_joined',
      summary: 'the bot storage holds no identity: the bot has not joined yet (or its storage was reset)',
      details: [],
      fix: ['Run the bot with a valid join token in onboarding.token.'],
    })
    return undefined
  }
  const now = deps.clock.now()
  if (stored.notAfter <= now) {
    const bot = botNameOf(stored.identity)
    findings.push({
      code: 'identity_expired',
      summary: 'Identity has expired. The renewal is likely to fail.',
      details: [`expires: ${stored.notAfter.toISOString()}, current time: ${now.toISOString()}`],
      fix: [
        `Get a new one-time join token: credbroker bots instances add ${bot}`,
        'Put it in the config (onboarding.token) and restart the bot: it joins again as a new bot instance.',
      ],
    })
  }
  return stored
}

async function checkLocks(deps: DoctorDeps, stored: StoredBotIdentity, findings: Finding[]): Promise<void> {
  try {
    await deps.client.request(stored.identity, 'GET', '/v1/resources/node')
  } catch (err) {
    if (!isBrokerError(err) || !/lock targeting .* is in force/.test(err.message)) return
    const bot = botNameOf(stored.identity)
    const generation = /generation mismatch/.test(err.message)
    findings.push({
      code: generation ? 'generation_mismatch_lock' : 'locked',
      summary: generation
        ? `bot instance ${bot}/${stored.botInstanceId} is locked after a certificate generation mismatch`
        : `a lock refuses bot ${bot}`,
      details: [err.message, `stored identity generation: ${stored.generation}`],
      fix: generation
        ? [
            'Make sure only one bot process uses this storage, and that it is not shared or copied (NFS, images).',
            'If the identity may have been stolen, investigate before unlocking.',
            `Find the lock and remove it: credbroker locks ls, then credbroker locks rm <id>`,
            `Get a new join token for a fresh bot instance: credbroker bots instances add ${bot}`,
            'Put the token in the config and restart the bot.',
          ]
        : [
            'Find the lock (credbroker locks ls) and remove it when its reason is resolved (credbroker locks rm <id>).',
          ],
    })
  }
}

async function checkSshPrincipals(deps: DoctorDeps, findings: Finding[]): Promise<void> {
  if (deps.login === undefined) return
  for (const output of deps.config.outputs) {
    if (output.type !== 'identity') continue
    const files = await deps.destination(output)?.readAll()
    const line = files?.get('key-cert.pub')
    if (line === undefined) continue
    const { principals } = sshCertificateFields(Buffer.from(line).toString('utf8'))
    if (principals.includes(deps.login)) continue
    findings.push({
      code: 'ssh_principal_not_granted',
      summary: `output ${output.name}: its SSH certificate does not allow login ${deps.login} (ssh: unable to authenticate)`,
      details: [
        `principals: ${principals.join(', ') || '(none)'}`,
        `roles: ${output.roles.join(', ') || '(all the bot may impersonate)'}`,
      ],
      fix: [
        `Log in as one of: ${principals.filter((p) => !p.startsWith('-')).join(', ') || '(none granted)'}, or`,
        `add ${deps.login} to the logins of one of the output's roles (or give the output a role that has it),`,
        'then renew now: restart the bot or send it SIGHUP.',
      ],
    })
  }
}

async function checkDatabases(
  deps: DoctorDeps,
  stored: StoredBotIdentity,
  findings: Finding[],
): Promise<void> {
  for (const output of deps.config.outputs) {
    if (output.type !== 'database') continue
    const roles = output.roles.join(',')
    const path = `/v1/resources/db/${encodeURIComponent(output.service)}${roles ? `?as_roles=${encodeURIComponent(roles)}` : ''}`
    try {
      await deps.client.request(stored.identity, 'GET', path)
    } catch (err) {
      if (!isBrokerError(err) || err.code !== 'ERR_NOT_FOUND') continue
      const explained = await deps.explainDatabase?.(output.service, output.roles)
      findings.push({
        code: 'database_not_found',
        summary: `output ${output.name}: database "${output.service}" not found for roles ${roles || '(all)'}`,
        details: explained?.reasons ?? [
          'The database is missing, or the roles cannot see it: a role must match its labels (db_labels)',
          'and a role must allow read and list on db_server (or db).',
        ],
        fix: explained?.fix ?? [
          "Give one of the output's roles db_labels matching the database and a rule:",
          '  rules: [{ resources: [db_server, db], verbs: [read, list] }]',
          'Check that the output requests that role (roles: in the config), then restart or reload the bot.',
        ],
      })
    }
  }
}

function botNameOf(identity: ClientIdentity): string {
  try {
    return decodeIdentity(new X509Certificate(identity.tlsCertPem).raw).botName ?? '<bot>'
  } catch {
    return '<bot>'
  }
}

function normalized(url: string): string | undefined {
  try {
    return new URL(url).href.replace(/\/$/, '')
  } catch {
    return undefined
  }
}

function errorText(err: unknown): string {
  if (isBrokerError(err)) return `${err.code}: ${err.message}`
  return err instanceof Error ? err.message : String(err)
}
