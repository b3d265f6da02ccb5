/**
 * The auth service alone, on the configured state:
 *   auth start [-f FILE|DIR]…      serve it on CREDBROKER_LISTEN until Ctrl-C
 *   auth bootstrap [-f FILE|DIR]…  create the state, CAs, admin role and admin identity, apply
 *                                  documents, and exit (nothing is served)
 * Both write a fresh admin identity to `<state>/admin/` (embedded store), for `--identity`.
 */
import { relative } from 'node:path'
import { listFlag } from '../args.ts'
import type { Invocation } from '../command.ts'
import { withContext } from '../context.ts'
import { startLocalAuth } from '../local-cluster.ts'
import { renderData } from '../output.ts'
import { progressFor } from '../progress.ts'
import { abortOnSignals } from '../signals.ts'
import { renderTable } from '../table.ts'

async function bootstrapReport(inv: Invocation, serve: boolean) {
  const progress = progressFor(inv.io)
  return withContext({ ...inv.io, clock: inv.clock }, async (ctx) => {
    progress.step(serve ? 'starting the auth service' : 'bootstrapping the auth state')
    const cluster = await startLocalAuth(ctx, { documents: listFlag(inv.flags, 'file'), serve })
    const record = {
      cluster_name: ctx.config.clusterName,
      url: cluster.url,
      admin_identity: cluster.adminDir ?? null,
      applied: cluster.applied.map((a) => ({ kind: a.kind, name: a.name, action: a.action })),
    }
    const text = () =>
      [
        `Auth service ${serve ? 'listening on' : 'for'} ${cluster.url}  (cluster ${record.cluster_name})`,
        ...(cluster.adminDir === undefined
          ? []
          : [`Admin identity: ${shortPath(inv.io.cwd, cluster.adminDir)}/ (key, tlscert, auth_server)`]),
        ...(record.applied.length === 0
          ? []
          : [
              '',
              renderTable(
                ['KIND', 'NAME', 'ACTION'],
                record.applied.map((a) => [a.kind, a.name, a.action]),
              ),
            ]),
      ].join('\n')
    inv.io.stdout(renderData(inv.format, record, text))
    if (serve) {
      const signal = abortOnSignals()
      await new Promise<void>((done) => signal.addEventListener('abort', () => done(), { once: true }))
      await cluster.close()
    }
    return 0
  })
}

export function runAuthStart(inv: Invocation): Promise<number> {
  return bootstrapReport(inv, true)
}

export function runAuthBootstrap(inv: Invocation): Promise<number> {
  return bootstrapReport(inv, false)
}

/** `dir` relative to `cwd` when it lies inside it, else as given. */
function shortPath(cwd: string, dir: string): string {
  const rel = relative(cwd, dir)
  return rel === '' ? '.' : rel.startsWith('..') ? dir : rel
}
