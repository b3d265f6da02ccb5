/**
 * `credbroker status -c <bot config>`: per output, when the credential it holds was issued and
 * when it expires, plus the bot identity's expiry.
 *
 * - With `reissue:` in the config, the running daemon is asked (`GET /v1/status` on that loopback
 *   address, with the bearer token of `reissue.token_file` when configured): its schedule knows
 *   the last success, the next renewal and the last error of each output.
 * - Otherwise it reads what the bot left behind: the identity in its storage, and in each
 *   destination the certificate of the current set (its notBefore is the issuance, as the bot's
 *   certificates are not backdated by more than the server's skew allowance). Read-only.
 */
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { type BotConfig, parseBotConfig } from '../../bot/config.ts'
import { openBotDestinations } from '../../bot/destinations.ts'
import { loadStoredIdentity } from '../../bot/renewal-storage.ts'
import { sshCertificateFields } from '../../ca/ssh/certificate-fields.ts'
import { optionalString } from '../../config/env.ts'
import { BadRequestError, UpstreamUnavailableError } from '../../errors.ts'
import type { Destination } from '../../ports/destination.ts'
import type { OutputStatus, StatusBody } from '../../reissue/status.ts'
import { readReissueToken } from '../../reissue/token-file.ts'
import { stringFlag } from '../args.ts'
import type { Invocation } from '../command.ts'
import { humanTime } from '../human.ts'
import { renderData } from '../output.ts'
import { renderTable } from '../table.ts'
import { UsageError } from '../usage-error.ts'

export interface StatusReport {
  /** `daemon`: the running bot's reissue endpoint answered; `storage`: read from disk/secrets. */
  readonly source: 'daemon' | 'storage'
  readonly identity_not_after: string | null
  readonly outputs: readonly {
    readonly output: string
    readonly destination: string
    readonly issued_at: string | null
    readonly not_after: string | null
    readonly last_error: string | null
  }[]
}

/** Certificates that identify an output's credential, most telling first; CA files are skipped. */
const LEAF_ARTIFACTS = ['tlscert', 'tls.crt', 'svid.pem', 'mongo.crt'] as const
const SSH_ARTIFACTS = ['key-cert.pub', 'ssh_host-cert.pub'] as const

function readConfig(inv: Invocation): BotConfig {
  const configPath = stringFlag(inv.flags, 'config')
  if (configPath === undefined) throw new UsageError('status needs -c <bot config file>')
  const path = resolve(inv.io.cwd, configPath)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    throw new BadRequestError(`cannot read ${path}`)
  }
  return parseBotConfig(text, { baseDir: inv.io.cwd, source: configPath }).config
}

/** notBefore/notAfter of the current set's credential, when it holds one we can read. */
async function validityOf(destination: Destination | undefined) {
  const files = await destination?.readAll()
  if (files === undefined || files.size === 0) return undefined
  for (const name of LEAF_ARTIFACTS) {
    const pem = files.get(name)
    if (pem === undefined) continue
    const cert = new X509Certificate(Buffer.from(pem))
    return { issuedAt: new Date(cert.validFrom), notAfter: new Date(cert.validTo) }
  }
  for (const name of SSH_ARTIFACTS) {
    const line = files.get(name)
    if (line === undefined) continue
    const fields = sshCertificateFields(Buffer.from(line).toString('utf8'))
    return { issuedAt: fields.validAfter, notAfter: fields.validBefore }
  }
  return undefined
}

async function fromStorage(inv: Invocation, config: BotConfig): Promise<StatusReport> {
  const env = inv.io.env
  const region = optionalString(env, 'AWS_REGION') ?? optionalString(env, 'AWS_DEFAULT_REGION')
  const { storage, destinations } = openBotDestinations(
    config,
    inv.clock,
    region === undefined ? {} : { defaultRegion: region },
  )
  const stored = await loadStoredIdentity(storage)
  const outputs = []
  for (const output of config.outputs) {
    const destination = destinations.get(output.name)
    const validity = await validityOf(destination)
    outputs.push({
      output: output.name,
      destination: destination?.describe() ?? '-',
      issued_at: validity?.issuedAt.toISOString() ?? null,
      not_after: validity?.notAfter.toISOString() ?? null,
      last_error: null,
    })
  }
  return {
    source: 'storage',
    identity_not_after: stored?.identity.notAfter.toISOString() ?? null,
    outputs,
  }
}

async function fromDaemon(
  config: BotConfig,
  listen: NonNullable<BotConfig['reissue']>,
): Promise<StatusReport> {
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host
  const url = `http://${host}:${listen.port}/v1/status`
  const token = listen.tokenFile === undefined ? undefined : readReissueToken(listen.tokenFile)
  let body: StatusBody
  try {
    const res = await fetch(url, {
      headers: {
        accept: 'application/json',
        ...(token !== undefined && { authorization: `Bearer ${token}` }),
      },
      signal: AbortSignal.timeout(5000),
    })
    if (!res.ok)
      throw new UpstreamUnavailableError(`the bot's reissue endpoint ${url} answered HTTP ${res.status}`)
    body = (await res.json()) as StatusBody
  } catch (err) {
    if (err instanceof UpstreamUnavailableError) throw err
    throw new UpstreamUnavailableError(
      `the bot's reissue endpoint ${url} does not answer: is the daemon running?`,
      {
        cause: err,
      },
    )
  }
  const byName = new Map<string, OutputStatus>(body.outputs.map((o) => [o.output, o]))
  return {
    source: 'daemon',
    identity_not_after: body.identity_not_after ?? null,
    outputs: config.outputs.map((o) => {
      const s = byName.get(o.name)
      return {
        output: o.name,
        destination: o.destination.type,
        issued_at: s?.last_success ?? null,
        not_after: s?.not_after ?? null,
        last_error: s?.last_error ? `${s.last_error.code}: ${s.last_error.message}` : null,
      }
    }),
  }
}

function render(report: StatusReport, now: Date): string {
  const when = (iso: string | null) => (iso === null ? '-' : humanTime(iso, now))
  return [
    `Bot identity expires: ${when(report.identity_not_after)}  (from the ${report.source === 'daemon' ? 'running daemon' : "bot's storage"})`,
    '',
    renderTable(
      ['OUTPUT', 'DESTINATION', 'ISSUED', 'EXPIRES', 'LAST ERROR'],
      report.outputs.map((o) => [
        o.output,
        o.destination,
        when(o.issued_at),
        when(o.not_after),
        o.last_error ?? '-',
      ]),
    ),
  ].join('\n')
}

export async function runStatus(inv: Invocation): Promise<number> {
  const config = readConfig(inv)
  const report =
    config.reissue === undefined ? await fromStorage(inv, config) : await fromDaemon(config, config.reissue)
  inv.io.stdout(renderData(inv.format, report, () => render(report, inv.clock.now())))
  return 0
}
