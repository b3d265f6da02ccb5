/**
 * The `ssh_host` output run by a real sshd on 127.0.0.1, and the `identity` output logging in to
 * it with strict host key checking: the whole Machine ID SSH picture, both sides issued by one
 * bot cycle.
 *
 * - sshd's `HostKey`, `HostCertificate` and `TrustedUserCAKeys` are the `ssh_host` output's
 *   `ssh_host`, `ssh_host-cert.pub` and `ssh_host-user-ca.pub`, used in place.
 * - The client's only known_hosts is the identity output's `known_hosts` (the host CA's
 *   `@cert-authority` line for `<cluster>,*.<cluster>`). The cluster is named `localhost` so
 *   that line covers the host certificate's principal `localhost`, and the client connects by
 *   that name (IPv4 only, so to 127.0.0.1): ssh checks the name it was given, not the address.
 *   (On a non-default port ssh looks up `[localhost]:<port>` first, then retries without the port.)
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { authorizedKeyLine } from '../../lib/ca/ssh/public-key.ts'
import {
  type BotRun,
  type LoopbackAuth,
  outputResult,
  runBotOnce,
  startLoopbackAuth,
} from '../helpers/loopback-bot.ts'
import { currentUser, type Sshd, sshKeygenList, startSshd } from '../helpers/sshd.ts'

const CLUSTER = 'localhost'

const roles = [
  {
    kind: 'role',
    version: 'v1',
    metadata: { name: 'ssh-host' },
    spec: { allow: { rules: [{ resources: ['host_cert'], verbs: ['create'] }] } },
  },
  {
    kind: 'role',
    version: 'v1',
    metadata: { name: 'ssh-user' },
    spec: { allow: { logins: ['alice'], node_labels: { '*': '*' } } },
  },
  // Everything an operator might think is enough, except `host_cert` `create`.
  {
    kind: 'role',
    version: 'v1',
    metadata: { name: 'no-host-cert' },
    spec: {
      allow: {
        logins: ['alice'],
        node_labels: { '*': '*' },
        rules: [{ resources: ['node'], verbs: ['read', 'list', 'create'] }],
      },
    },
  },
]

describe('e2e: ssh_host output served by a real sshd, identity output logging in', {
  timeout: 60_000,
}, () => {
  let dir: string
  let auth: LoopbackAuth
  let run: BotRun
  let sshd: Sshd
  const host = () => join(dir, 'host')
  const user = () => join(dir, 'user')
  const denied = () => join(dir, 'denied')

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credbroker-ssh-host-e2e-'))
    auth = await startLoopbackAuth({ clusterName: CLUSTER, documents: roles })
    run = await runBotOnce(auth, {
      bot: 'ssh',
      roles: ['ssh-host', 'ssh-user', 'no-host-cert'],
      baseDir: dir,
      outputs: [
        {
          type: 'ssh_host',
          name: 'host',
          roles: ['ssh-host'],
          principals: ['localhost', '127.0.0.1'],
          destination: { type: 'directory', path: 'host' },
        },
        {
          type: 'identity',
          name: 'user',
          roles: ['ssh-user'],
          destination: { type: 'directory', path: 'user' },
        },
        {
          type: 'ssh_host',
          name: 'denied',
          roles: ['no-host-cert'],
          principals: ['localhost'],
          destination: { type: 'directory', path: 'denied' },
        },
      ],
    })
    assert.equal(outputResult(run, 'host').ok, true, JSON.stringify(outputResult(run, 'host')))
    assert.equal(outputResult(run, 'user').ok, true, JSON.stringify(outputResult(run, 'user')))
    sshd = await startSshd({
      hostKeyFile: join(host(), 'ssh_host'),
      hostCertificateFile: join(host(), 'ssh_host-cert.pub'),
      trustedUserCaKeysFile: join(host(), 'ssh_host-user-ca.pub'),
      principalsFor: { [currentUser()]: ['alice'] },
    })
  })

  after(async () => {
    await sshd?.stop()
    await auth?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /** A login with the identity output's key and certificate, checking the host against `knownHostsFile`. */
  const login = (knownHostsFile: string, hostKeyAlias?: string) =>
    sshd.tryLogin({
      user: currentUser(),
      keyFile: join(user(), 'key'),
      certFile: join(user(), 'key-cert.pub'),
      knownHostsFile,
      host: 'localhost',
      ...(hostKeyAlias !== undefined && { hostKeyAlias }),
      command: 'printf %s host-verified',
      verbose: true,
    })

  it('ok/ssh-keygen -L lists the output as a host certificate for the principals', async () => {
    const listing = await sshKeygenList(readFileSync(join(host(), 'ssh_host-cert.pub'), 'utf8'))

    assert.match(listing, /Type: ecdsa-sha2-nistp256-cert-v01@openssh\.com host certificate/)
    assert.match(listing, /Principals: \n\s+localhost\n\s+127\.0\.0\.1\n/)
    assert.match(listing, /Key ID: "localhost"/)
    // Signed by the host CA: the key the identity output's known_hosts trusts.
    const hostCaKey = auth.service.deps.cas.host.trustedSshKeys[0]?.split(' ')[1]
    assert.ok(hostCaKey)
    assert.ok(readFileSync(join(user(), 'known_hosts'), 'utf8').includes(hostCaKey))
  })

  it('ok/the user CA file holds exactly the CA keys the auth service trusts for users', () => {
    const lines = readFileSync(join(host(), 'ssh_host-user-ca.pub'), 'utf8').trim().split('\n')
    assert.deepEqual(lines, auth.service.deps.cas.user.trustedSshKeys)
  })

  it('ok/ssh logs in with the identity output, trusting the host only through known_hosts', async () => {
    const knownHosts = readFileSync(join(user(), 'known_hosts'), 'utf8')
    assert.match(knownHosts, /^@cert-authority localhost,\*\.localhost ssh-ed25519 \S+/)
    const from = sshd.log().length

    const result = await login(join(user(), 'known_hosts'))

    assert.equal(result.ok, true, result.stderr)
    assert.equal(result.stdout, 'host-verified')
    assert.match(result.stderr, /Host 'localhost' is known and matches the ECDSA-CERT host certificate/)
    await sshd.waitForLog(/Accepted certificate ID "bot-ssh" \(serial \d+\) signed by ED25519 CA/, { from })
  })

  it('ok/the address principal verifies a connection to 127.0.0.1 when known_hosts names it', async () => {
    // The identity output's CA line, re-scoped from the cluster's names to the address.
    const line = readFileSync(join(user(), 'known_hosts'), 'utf8').replace(
      /^(@cert-authority) \S+/,
      '$1 127.0.0.1',
    )
    const file = join(dir, 'known_hosts-address')
    writeFileSync(file, line)

    const result = await sshd.tryLogin({
      user: currentUser(),
      keyFile: join(user(), 'key'),
      certFile: join(user(), 'key-cert.pub'),
      knownHostsFile: file,
      command: 'printf %s by-address',
    })

    assert.equal(result.ok, true, result.stderr)
    assert.equal(result.stdout, 'by-address')
  })

  it('fail/a known_hosts naming another CA fails host verification', async () => {
    const other = generateKeyPairSync('ed25519').publicKey
    const file = join(dir, 'known_hosts-other-ca')
    writeFileSync(file, `@cert-authority localhost,*.localhost ${authorizedKeyLine(other)}\n`)
    const from = sshd.log().length

    const result = await login(file)

    assert.equal(result.ok, false)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, /No matching CA found/)
    assert.match(result.stderr, /Host key verification failed/)
    // The client gave up before authenticating: sshd accepted nobody.
    assert.doesNotMatch(sshd.log().slice(from), /Accepted /)
  })

  it('fail/a name the known_hosts line covers but the certificate does not list is refused', async () => {
    // `*.localhost` matches `web.localhost`, but the host certificate names only localhost and
    // 127.0.0.1: ssh must check the principals, not just the CA.
    const result = await login(join(user(), 'known_hosts'), 'web.localhost')

    assert.equal(result.ok, false)
    assert.match(result.stderr, /Certificate invalid: name is not a listed principal/)
    assert.match(result.stderr, /Host key verification failed/)
  })

  it('fail/an ssh_host output whose roles lack host_cert create is denied and writes nothing', () => {
    const result = outputResult(run, 'denied')

    assert.ok(!result.ok)
    assert.equal(result.code, 'ERR_ACCESS_DENIED')
    assert.match(
      result.message,
      /no-host-cert may not create host certificates: no role allows create on host_cert/,
    )
    assert.ok(!existsSync(denied()) || readdirSync(denied()).length === 0, 'the denied output wrote files')
  })
})
