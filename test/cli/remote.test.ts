/**
 * Remote mode: `credbroker auth start` runs as its own process on 127.0.0.1, and the admin
 * commands go through its admin HTTP API with `--auth-server` and `--identity` (or
 * CREDBROKER_AUTH_SERVER / CREDBROKER_IDENTITY, or the identity's auth_server file), every
 * request signed with the admin identity's key. The same commands on the local state store give
 * the same answers, errors included. A bot run with `bot oneshot --auth-server` joins that
 * service and `status` reports its outputs.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { RotationStatus } from '../../lib/ca/rotation.ts'
import type { Lock, Resource } from '../../lib/resources/types.ts'
import { freePort } from '../helpers/peer-process.ts'
import { cliJson, cliOk, runCli, startAuth } from './run-cli.ts'

describe('credbroker through a remote auth service', () => {
  let dir: string
  let url: string
  let local: Record<string, string>
  let remote: Record<string, string>
  let auth: ReturnType<typeof startAuth>
  let adminDir: string

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credbroker-cli-remote-'))
    const listen = `127.0.0.1:${await freePort()}`
    url = `http://${listen}`
    local = { CREDBROKER_STATE_DIR: join(dir, 'state'), CREDBROKER_LOG_LEVEL: 'warn' }
    adminDir = join(dir, 'state', 'admin')
    // The remote side knows nothing of the state directory: only the URL and the identity.
    remote = {
      CREDBROKER_AUTH_SERVER: url,
      CREDBROKER_IDENTITY: adminDir,
      CREDBROKER_STATE_DIR: join(dir, 'none'),
    }
    auth = startAuth({
      env: { ...local, CREDBROKER_LISTEN: listen },
      cwd: process.cwd(),
      args: ['-f', 'examples/cluster'],
    })
    const first = await auth.ready
    assert.match(first, new RegExp(`^Auth service listening on ${url}`))
  })
  after(async () => {
    await auth?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  /**
   * Runs `argv` locally and remotely; both must exit alike and print the same, except for how
   * long ago something happened (`(1m 21s ago)`), as the two processes run a moment apart.
   */
  const same = async (argv: string[]) => {
    const [l, r] = await Promise.all([runCli(argv, { env: local }), runCli(argv, { env: remote })])
    const relative = / ?\((in )?\d+[dhms]( \d+[dhms])?( ago)?\)/g
    const text = (s: string) => s.replace(relative, '').replace(/ +$/gm, '')
    assert.equal(r.code, l.code, `${argv.join(' ')}: local ${l.stderr} / remote ${r.stderr}`)
    assert.equal(r.stderr, l.stderr, argv.join(' '))
    assert.equal(text(r.stdout), text(l.stdout), argv.join(' '))
    return l
  }

  it('ok/get, bots ls and apply answer the same remotely as locally', async () => {
    const roles = JSON.parse((await same(['get', 'role', '--format', 'json'])).stdout) as Resource[]
    assert.deepEqual(roles.map((r) => r.metadata.name).sort(), ['access', 'admin', 'machine-id-db'])
    await same(['get', 'role/access'])
    await same(['get', 'db', '--format', 'text'])
    await same(['bots', 'ls', '--format', 'json'])
    const applied = JSON.parse(
      (await same(['apply', '-f', 'examples/cluster', '--format', 'json'])).stdout,
    ) as {
      action: string
    }[]
    assert.ok(applied.length > 0 && applied.every((a) => a.action === 'unchanged'))
  })

  it('ok/flags work as well as the environment, and the identity names its auth service', async () => {
    const viaFlags = await cliJson(['bots', 'ls', '--auth-server', url, '--identity', adminDir], {
      env: { CREDBROKER_STATE_DIR: join(dir, 'none') },
    })
    const viaFile = await cliJson(['bots', 'ls', '--identity', adminDir], {
      env: { CREDBROKER_STATE_DIR: join(dir, 'none') },
    })
    const viaLocal = await cliJson(['bots', 'ls'], { env: local })
    assert.deepEqual(viaFlags, viaLocal)
    assert.deepEqual(viaFile, viaLocal)
  })

  it('ok/a bot added remotely is there locally; its tokens list the same; rm removes it', async () => {
    const added = await cliJson<{ token: string }>(
      ['bots', 'add', 'ci', '--roles', 'access', '--token-ttl', '15m'],
      {
        env: remote,
      },
    )
    assert.match(added.token, /^[0-9a-f]{32}$/)
    const more = await cliJson<{ token: string }>(['bots', 'instances', 'add', 'ci'], { env: remote })
    const withTtl = await cliJson<{ token: string; token_expires: string }>(
      ['tokens', 'add', '--bot', 'ci', '--ttl', '5m'],
      { env: remote },
    )
    const ttl = Date.parse(withTtl.token_expires) - Date.now()
    assert.ok(ttl > 4 * 60_000 && ttl <= 5 * 60_000, withTtl.token_expires)
    const tokens = JSON.parse(
      (await same(['tokens', 'ls', '--show-secrets', '--format', 'json'])).stdout,
    ) as {
      name: string
    }[]
    for (const t of [added.token, more.token, withTtl.token]) assert.ok(tokens.some((x) => x.name === t))
    await same(['tokens', 'ls'])
    await same(['bots', 'ls'])
    const updated = await cliJson<{ roles: string[] }>(
      ['bots', 'update', 'ci', '--add-roles', 'machine-id-db'],
      {
        env: remote,
      },
    )
    assert.deepEqual(updated.roles, ['access', 'machine-id-db'])
    const removed = await cliJson<{ removed: boolean; tokens: number }>(['bots', 'rm', 'ci'], { env: remote })
    assert.deepEqual([removed.removed, removed.tokens], [true, 3])
    await same(['bots', 'ls'])
  })

  it('ok/locks: added remotely (created_by admin), listed the same, removed remotely', async () => {
    const id = (
      await cliOk(['locks', 'add', '--user', 'bot-x', '--message', 'incident 9'], { env: remote })
    ).trim()
    const locks = JSON.parse((await same(['locks', 'ls', '--format', 'json'])).stdout) as Lock[]
    const lock = locks.find((l) => l.metadata.name === id)
    assert.equal(lock?.spec.created_by, 'admin')
    assert.equal(lock?.spec.message, 'incident 9')
    await same(['locks', 'ls'])
    assert.match(
      await cliOk(['locks', 'rm', id], { env: remote }),
      new RegExp(`^lock "${id}" removed \\(user=bot-x\\)`),
    )
    await same(['get', 'lock', '--format', 'json'])
  })

  it('fail/errors are the same remotely: codes, messages, exit codes; nothing written', async () => {
    const notFound = await same(['get', 'db/nope'])
    assert.equal(notFound.code, 1)
    assert.equal(notFound.stderr, 'error [ERR_NOT_FOUND]: database "nope" not found\n')
    const badOption = await same(['locks', 'add', '--bot-instance', 'ci'])
    assert.equal(badOption.code, 1)
    assert.match(badOption.stderr, /^error \[ERR_INVALID_RESOURCE\]: --bot-instance: /)
    const file = join(dir, 'bad.yaml')
    writeFileSync(
      file,
      'kind: db\nversion: v1\nmetadata: {name: x}\nspec: {protocol: postgres, url: "a:1"}\n',
    )
    const bad = await same(['create', '-f', file])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /^error \[ERR_INVALID_RESOURCE\]: spec\.url: unknown field/)
    await same(['get', 'db', '--format', 'json'])
    const usage = await runCli(['bots', 'ls', '--auth-server', url], { env: { CREDBROKER_STATE_DIR: dir } })
    assert.equal(usage.code, 2)
    assert.match(usage.stderr, /^error \[ERR_BAD_REQUEST\]: --auth-server needs --identity DIR/)
  })

  it('ok/ca status is the same remotely; ca rotate steps through init and rolls back', async () => {
    const cas = JSON.parse((await same(['ca', 'status', '--format', 'json'])).stdout) as RotationStatus[]
    assert.ok(cas.some((c) => c.type === 'host' && c.phase === 'standby'))
    await same(['ca', 'status', '--type', 'host'])
    const init = await cliJson<RotationStatus>(['ca', 'rotate', '--type', 'host'], { env: remote })
    assert.equal(init.phase, 'init')
    assert.equal(init.trusted.length, 2)
    const seen = await cliJson<RotationStatus[]>(['ca', 'status', '--type', 'host'], { env: local })
    assert.equal(seen[0]?.phase, 'init')
    const back = await cliJson<RotationStatus>(['ca', 'rotate', '--type', 'host', '--phase', 'rollback'], {
      env: remote,
    })
    assert.equal(back.phase, 'rollback')
    const wrong = await same(['ca', 'rotate', '--type', 'host', '--phase', 'update_servers'])
    assert.equal(wrong.code, 1)
    assert.match(wrong.stderr, /^error \[ERR_/)
  })

  it('ok/bot oneshot joins the auth service given by --auth-server (over the file), and status reports it', async () => {
    const { token } = await cliJson<{ token: string }>(['bots', 'add', 'runner', '--roles', 'access'], {
      env: remote,
    })
    const config = join(dir, 'bot.yaml')
    writeFileSync(
      config,
      [
        'version: v1',
        'auth_server: http://127.0.0.1:9', // overridden by --auth-server
        'onboarding: {join_method: token, token: ' + token + '}',
        `storage: {type: directory, path: ${join(dir, 'bot')}}`,
        'outputs:',
        `  - {type: identity, name: ssh, roles: [access], destination: {type: directory, path: ${join(dir, 'out')}}}`,
        '',
      ].join('\n'),
    )
    const before = await cliJson<{
      identity_not_after: string | null
      outputs: { not_after: string | null }[]
    }>(['status', '-c', config], { env: local })
    assert.equal(before.identity_not_after, null)
    assert.equal(before.outputs[0]?.not_after, null)
    const run = await runCli(['bot', 'oneshot', '-c', config, '--auth-server', url], { env: local })
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout, '')
    assert.doesNotMatch(run.stderr, /^… /m) // not a terminal: no progress lines
    const status = await cliJson<{
      source: string
      identity_not_after: string
      outputs: { output: string; issued_at: string; not_after: string }[]
    }>(['status', '-c', config], { env: local })
    assert.equal(status.source, 'storage')
    assert.ok(Date.parse(status.identity_not_after) > Date.now())
    assert.equal(status.outputs[0]?.output, 'ssh')
    assert.ok(Date.parse(status.outputs[0]?.not_after ?? '') > Date.now())
    assert.ok(Date.parse(status.outputs[0]?.issued_at ?? '') <= Date.now())
    assert.match(
      await cliOk(['status', '-c', config], { env: local }),
      /^ssh\s+directory .*\s+\d{4}-\d\d-\d\d /m,
    )

    // The instance the join made, listed and shown the same (its name holds a slash).
    const listed = await same(['bots', 'instances', 'ls', 'runner', '--format', 'json'])
    const instances = JSON.parse(listed.stdout) as { bot: string; instance_id: string }[]
    assert.equal(instances.length, 1)
    assert.equal(instances[0]?.bot, 'runner')
    const ref = `runner/${instances[0]?.instance_id}`
    const shown = await same(['bots', 'instances', 'show', ref])
    assert.match(shown.stdout, new RegExp(`^instance: +${ref}\\n`))
  })
})
