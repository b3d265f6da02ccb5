/**
 * `credbroker doctor -c <bot config> [--login NAME] [--format text|json|yaml]`: checks a bot against the symptoms
 * of the troubleshooting guide (see lib/doctor/diagnose.ts) and prints each finding with its fix.
 * Exit 0 when nothing is found, 1 otherwise. Read-only.
 *
 * With the embedded state at hand (the configured `CREDBROKER_STATE_DIR` holds a state database),
 * a database that is not found is explained role by role; otherwise in general terms.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { EMBEDDED_DB_FILE, openStore } from '../../adapters/open-store.ts'
import { AuthClient } from '../../bot/auth-client.ts'
import { parseBotConfig } from '../../bot/config.ts'
import { openBotDestinations } from '../../bot/destinations.ts'
import { loadStoredIdentity } from '../../bot/renewal-storage.ts'
import type { Clock } from '../../clock.ts'
import { optionalString } from '../../config/env.ts'
import { loadConfig } from '../../config/load-config.ts'
import { diagnose, type Finding } from '../../doctor/diagnose.ts'
import { explainDatabase } from '../../doctor/explain-database.ts'
import { BadRequestError, InvalidConfigError } from '../../errors.ts'
import { ResourceService } from '../../services/resource-service.ts'
import { booleanFlag, stringFlag } from '../args.ts'
import type { Invocation } from '../command.ts'
import type { CliIo } from '../context.ts'
import { type OutputFormat, renderData } from '../output.ts'
import { UsageError } from '../usage-error.ts'

export async function doctorCommand(
  io: CliIo,
  clock: Clock,
  options: { configPath: string | undefined; login: string | undefined; format: OutputFormat },
): Promise<number> {
  if (options.configPath === undefined) throw new UsageError('doctor needs -c <bot config file>')
  const findings = await findingsFor(io, clock, options.configPath, options.login)
  io.stdout(renderData(options.format, { ok: findings.length === 0, findings }, () => render(findings)))
  return findings.length === 0 ? 0 : 1
}

export function runDoctor(inv: Invocation): Promise<number> {
  return doctorCommand(inv.io, inv.clock, {
    configPath: stringFlag(inv.flags, 'config'),
    login: stringFlag(inv.flags, 'login'),
    format: booleanFlag(inv.flags, 'json') ? 'json' : inv.format,
  })
}

async function findingsFor(io: CliIo, clock: Clock, configPath: string, login: string | undefined) {
  const path = resolve(io.cwd, configPath)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    throw new BadRequestError(`cannot read ${path}`)
  }
  let config: ReturnType<typeof parseBotConfig>['config']
  try {
    config = parseBotConfig(text, { baseDir: io.cwd, source: configPath }).config
  } catch (err) {
    if (err instanceof InvalidConfigError) return [configFinding(err)]
    throw err
  }
  const region = optionalString(io.env, 'AWS_REGION') ?? optionalString(io.env, 'AWS_DEFAULT_REGION')
  const { storage, destinations } = openBotDestinations(
    config,
    clock,
    region === undefined ? {} : { defaultRegion: region },
  )
  const resources = await localState(io)
  try {
    return await diagnose({
      config,
      client: new AuthClient({ baseUrl: config.authServer, clock }),
      clock,
      storedIdentity: async () => {
        const stored = await loadStoredIdentity(storage)
        return (
          stored && {
            identity: stored.identity,
            notAfter: stored.identity.notAfter,
            botInstanceId: stored.identity.botInstanceId,
            generation: stored.identity.generation,
          }
        )
      },
      destination: (output) => destinations.get(output.name),
      ...(resources && {
        explainDatabase: (service: string, roles: readonly string[]) =>
          explainDatabase(resources.service, service, roles),
      }),
      ...(login !== undefined && { login }),
      keepConfiguredAddress: optionalString(io.env, 'CREDBROKER_USE_PROXY_ADDR') === 'yes',
    })
  } finally {
    await resources?.close()
  }
}

/** The embedded state, when this machine holds it (a local cluster): for precise explanations. */
async function localState(io: CliIo) {
  const settings = loadConfig(io.env, io.cwd)
  if (settings.store.kind !== 'embedded' || !existsSync(join(settings.store.stateDir, EMBEDDED_DB_FILE))) {
    return undefined
  }
  const store = await openStore(settings.store)
  return { service: new ResourceService({ store }), close: () => store.close() }
}

function configFinding(err: InvalidConfigError): Finding {
  if (/must be a directory in exec plugin mode/.test(err.message)) {
    return {
      code: 'kube_exec_plugin_destination',
      summary: err.message,
      details: [
        'A kubernetes output writes a kubeconfig that runs an exec plugin reading the newest',
        'certificate from its directory; other destinations cannot serve that plugin.',
      ],
      fix: [
        'Add disable_exec_plugin: true to the output (the kubeconfig then embeds the credentials), or',
        'write it to a directory destination.',
      ],
    }
  }
  return {
    code: 'config_invalid',
    summary: err.message,
    details: [],
    fix: ['Fix the named field in the bot config.'],
  }
}

function render(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'ok: no problem found'
  return findings
    .map((f) =>
      [
        `✖ [${f.code}] ${f.summary}`,
        ...f.details.map((d) => `    ${d}`),
        '  fix:',
        ...f.fix.map((line, i) => `    ${i + 1}. ${line}`),
      ].join('\n'),
    )
    .join('\n\n')
}
