/**
 * The `kubernetes` output in both modes, read by real consumers on 127.0.0.1:
 *
 * - **embedded** (`disable_exec_plugin: true`, memory destination): the kubeconfig parses as YAML
 *   with one cluster/user/context, and its embedded certificate, key and CA work against an HTTPS
 *   server standing in for the API server (client certificates from the user CA required; it
 *   answers with the subject's CN and O, what the API server's x509 authenticator reads);
 * - **exec plugin** (directory destination): the kubeconfig runs `credbroker kube credentials`,
 *   whose ExecCredential carries the directory's certificate and key and works against the same
 *   server;
 * - exec plugin mode with any other destination is refused when the config is parsed.
 */
import assert from 'node:assert/strict'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { parse } from 'yaml'
import { validateBotConfig } from '../../lib/bot/config.ts'
import { main } from '../../lib/cli/main.ts'
import {
  type BotRun,
  type LoopbackAuth,
  outputResult,
  readOutput,
  runBotOnce,
  startLoopbackAuth,
} from '../helpers/loopback-bot.ts'
import { httpsGet, type MtlsServer, startMtlsServer } from '../helpers/mtls-server.ts'
import { opensslVerify } from '../helpers/openssl.ts'

const robot = {
  kind: 'role',
  version: 'v1',
  metadata: { name: 'kube-robot' },
  spec: {
    allow: {
      kubernetes_labels: { env: ['lab'] },
      kubernetes_groups: ['system:masters'],
      kubernetes_users: ['robot'],
      rules: [{ resources: ['kube_cluster'], verbs: ['read', 'list'] }],
    },
  },
}

/** The parts of a kubeconfig these tests read. */
interface Kubeconfig {
  readonly clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[]
  readonly users: { name: string; user: Record<string, unknown> }[]
  readonly contexts: { name: string; context: { cluster: string; user: string } }[]
  readonly 'current-context': string
}

const unbase64 = (data: unknown) => Buffer.from(String(data), 'base64').toString('utf8')

describe('e2e: kubernetes output read by real consumers', { timeout: 60_000 }, () => {
  let dir: string
  let auth: LoopbackAuth
  let apiServer: MtlsServer
  let run: BotRun
  const execDir = () => join(dir, 'kube-exec')

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credbroker-kube-e2e-'))
    auth = await startLoopbackAuth({ clusterName: 'e2e.local', documents: [robot] })
    const { cas } = auth.service.deps
    apiServer = await startMtlsServer({
      serverCa: cas.host,
      clientCaPems: cas.user.trustedTlsPems,
      respond: (peer) => ({ user: peer.subject.CN, groups: peer.subject.O }),
    })
    await auth.service.deps.resources.create({
      kind: 'kube_cluster',
      version: 'v1',
      metadata: { name: 'lab', labels: { env: 'lab' } },
      spec: { server: apiServer.url },
    })
    run = await runBotOnce(auth, {
      bot: 'kube',
      roles: ['kube-robot'],
      baseDir: dir,
      outputs: [
        {
          type: 'kubernetes',
          name: 'kube-embedded',
          kubernetes_cluster: 'lab',
          disable_exec_plugin: true,
          roles: ['kube-robot'],
          destination: { type: 'memory' },
        },
        {
          type: 'kubernetes',
          name: 'kube-exec',
          kubernetes_cluster: 'lab',
          roles: ['kube-robot'],
          destination: { type: 'directory', path: 'kube-exec' },
        },
      ],
    })
    for (const name of ['kube-embedded', 'kube-exec'])
      assert.equal(outputResult(run, name).ok, true, JSON.stringify(outputResult(run, name)))
  })

  after(async () => {
    await apiServer?.close()
    await auth?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  describe('embedded credentials (disable_exec_plugin, memory destination)', () => {
    let kubeconfig: Kubeconfig
    let certPem: string
    let keyPem: string
    let caPem: string

    before(async () => {
      const files = await readOutput(run, 'kube-embedded')
      assert.deepEqual([...files.keys()], ['kubeconfig.yaml'])
      kubeconfig = parse(files.get('kubeconfig.yaml') ?? '') as Kubeconfig
      const user = kubeconfig.users[0]?.user ?? {}
      certPem = unbase64(user['client-certificate-data'])
      keyPem = unbase64(user['client-key-data'])
      caPem = unbase64(kubeconfig.clusters[0]?.cluster['certificate-authority-data'])
    })

    it('ok/one cluster, user and context named after the cluster, with the registered server', () => {
      assert.deepEqual(
        kubeconfig.clusters.map((c) => [c.name, c.cluster.server]),
        [['lab', apiServer.url]],
      )
      assert.deepEqual(
        kubeconfig.users.map((u) => [u.name, Object.keys(u.user).sort()]),
        [['lab', ['client-certificate-data', 'client-key-data']]],
      )
      assert.deepEqual(kubeconfig.contexts, [{ name: 'lab', context: { cluster: 'lab', user: 'lab' } }])
      assert.equal(kubeconfig['current-context'], 'lab')
      assert.equal(caPem, auth.service.deps.cas.host.trustedTlsPems.join(''))
    })

    it('ok/openssl verify accepts the embedded certificate for client use against the user CA', async () => {
      const result = await opensslVerify({
        caPems: auth.service.deps.cas.user.trustedTlsPems,
        leafPem: certPem,
        purpose: 'sslclient',
      })
      assert.equal(result.ok, true, result.output)
    })

    it('ok/the subject names the kubernetes user and group; the key matches the certificate', () => {
      const cert = new X509Certificate(certPem)
      assert.equal(cert.subject, 'CN=robot\nO=system:masters')
      assert.equal(cert.checkPrivateKey(createPrivateKey(keyPem)), true)
    })

    it('ok/the API server stand-in accepts the embedded credentials as robot in system:masters', async () => {
      const res = await httpsGet(kubeconfig.clusters[0]?.cluster.server ?? '', {
        cert: certPem,
        key: keyPem,
        ca: caPem,
      })

      assert.equal(res.status, 200)
      assert.deepEqual(JSON.parse(res.body), { user: 'robot', groups: 'system:masters' })
    })
  })

  describe('exec plugin (directory destination)', () => {
    let kubeconfig: Kubeconfig

    before(() => {
      kubeconfig = parse(readFileSync(join(execDir(), 'kubeconfig.yaml'), 'utf8')) as Kubeconfig
    })

    /** `credbroker kube credentials --destination-dir <dir>`, run in-process as kubectl would run it. */
    async function execCredential(args: readonly string[]) {
      const out: string[] = []
      const err: string[] = []
      const code = await main(args, {
        env: {},
        cwd: dir,
        stdout: (text) => out.push(text),
        stderr: (text) => err.push(text),
      })
      return { code, stdout: out.join(''), stderr: err.join('') }
    }

    it('ok/the user is an exec entry running credbroker kube credentials for the directory', () => {
      assert.equal(kubeconfig['current-context'], 'lab')
      assert.deepEqual(
        kubeconfig.clusters.map((c) => [c.name, c.cluster.server]),
        [['lab', apiServer.url]],
      )
      assert.deepEqual(kubeconfig.users, [
        {
          name: 'lab',
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: 'credbroker',
              args: ['kube', 'credentials', '--destination-dir', execDir()],
              interactiveMode: 'Never',
              provideClusterInfo: false,
            },
          },
        },
      ])
    })

    it('ok/the command prints an ExecCredential with the directory certificate, key and expiry', async () => {
      const user = kubeconfig.users[0]?.user as { exec: { command: string; args: string[] } }
      const certPem = readFileSync(join(execDir(), 'tls.crt'), 'utf8')

      const result = await execCredential(user.exec.args)

      assert.equal(result.code, 0, result.stderr)
      const credential = JSON.parse(result.stdout)
      assert.equal(credential.apiVersion, 'client.authentication.k8s.io/v1')
      assert.equal(credential.kind, 'ExecCredential')
      assert.equal(credential.status.clientCertificateData, certPem)
      assert.equal(credential.status.clientKeyData, readFileSync(join(execDir(), 'tls.key'), 'utf8'))
      assert.equal(
        credential.status.expirationTimestamp,
        new Date(new X509Certificate(certPem).validTo).toISOString(),
      )
    })

    it('ok/the API server stand-in accepts the ExecCredential as robot in system:masters', async () => {
      const user = kubeconfig.users[0]?.user as { exec: { args: string[] } }
      const { status } = JSON.parse((await execCredential(user.exec.args)).stdout)

      const res = await httpsGet(kubeconfig.clusters[0]?.cluster.server ?? '', {
        cert: status.clientCertificateData,
        key: status.clientKeyData,
        ca: unbase64(kubeconfig.clusters[0]?.cluster['certificate-authority-data']),
      })

      assert.equal(res.status, 200)
      assert.deepEqual(JSON.parse(res.body), { user: 'robot', groups: 'system:masters' })
    })

    it('fail/the command refuses a directory the bot never wrote', async () => {
      const result = await execCredential(['kube', 'credentials', '--destination-dir', join(dir, 'nothing')])

      assert.equal(result.code, 1)
      assert.match(result.stderr, /^error \[ERR_NOT_FOUND\]: .* holds no kubernetes credentials/)
    })
  })

  for (const { destination, named } of [
    { destination: { type: 'memory' }, named: 'memory: kube' },
    {
      destination: { type: 'aws_secrets_manager', name: 'kube/lab', region: 'us-east-1' },
      named: 'aws_secrets_manager: kube/lab',
    },
  ]) {
    it(`fail/exec plugin mode with destination ${destination.type} is refused when parsing the config`, () => {
      const parse = () =>
        validateBotConfig(
          {
            version: 'v1',
            auth_server: auth.url,
            onboarding: { join_method: 'token', token: 'unused' },
            storage: { type: 'memory' },
            outputs: [
              {
                type: 'kubernetes',
                name: 'kube',
                kubernetes_cluster: 'lab',
                roles: ['kube-robot'],
                destination,
              },
            ],
          },
          { baseDir: dir },
        )

      // tbot's wording, which the troubleshooting guide quotes, then how to fix it.
      assert.throws(parse, {
        code: 'ERR_INVALID_CONFIG',
        message:
          `outputs[0].destination: Destination ${named} must be a directory in exec plugin mode ` +
          '(set disable_exec_plugin: true to write a kubeconfig with the credentials embedded)',
      })
    })
  }
})
