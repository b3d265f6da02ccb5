/**
 * The `database` output proven by a real PostgreSQL (Debian package, throwaway cluster on
 * 127.0.0.1, `hostssl … cert` with our database CA as `ssl_ca_file`): an auth service in process,
 * one bot cycle with several outputs, then the real `psql` client with the written files and
 * `sslmode=verify-full` (the server's certificate comes from the database CA too, for
 * 127.0.0.1). Also the troubleshooting guide's `database "pg" not found` case, a user
 * `db_users` does not allow and a name `db_names` does not allow. Fails, never skips, when
 * PostgreSQL is not installed.
 */
import assert from 'node:assert/strict'
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { MemoryKeyStore } from '../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../lib/adapters/memory/store.ts'
import { addJoinToken } from '../../lib/auth/bots.ts'
import { type AuthService, createAuthService } from '../../lib/auth/service.ts'
import { AuthClient } from '../../lib/bot/auth-client.ts'
import { type OutputResult, runCycle } from '../../lib/bot/bot.ts'
import { validateBotConfig } from '../../lib/bot/config.ts'
import { openBotDestinations } from '../../lib/bot/destinations.ts'
import { issueServerCertificate } from '../../lib/ca/issue-server-certificate.ts'
import { issueRoutedCertificate } from '../../lib/ca/issue-user-certificates.ts'
import { parseSpki } from '../../lib/ca/spki.ts'
import { systemClock } from '../../lib/clock.ts'
import { silentLogger } from '../../lib/log.ts'
import { cryptoRandom } from '../../lib/random.ts'
import { parseResources } from '../../lib/resources/parse.ts'
import { applyResources } from '../../lib/services/apply.ts'
import { opensslVerify } from '../helpers/openssl.ts'
import { type Postgres, startPostgres } from '../helpers/postgres.ts'
import { findPostgresBinaries } from '../helpers/postgres-host.ts'

/** Nominal: the client's fetch goes to `app.request`, so no socket is opened for the auth service. */
const BASE_URL = 'http://127.0.0.1'
const HOUR_MS = 3_600_000

function newAuthService(clusterName: string): Promise<AuthService> {
  return createAuthService({
    clusterName,
    publicAddr: BASE_URL,
    store: new MemoryStore(),
    keys: new MemoryKeyStore(),
    clock: systemClock, // PostgreSQL checks validity against the real clock
    random: cryptoRandom,
    log: silentLogger,
  })
}

/** `pg` on the test server; roles that see it (or not, and why); the bot that impersonates them. */
function resources(port: number) {
  const rule = [{ resources: ['db_server', 'db'], verbs: ['read', 'list'] }]
  const role = (name: string, allow: object) => ({
    kind: 'role',
    version: 'v1',
    metadata: { name },
    spec: { allow },
  })
  return parseResources(
    JSON.stringify([
      {
        kind: 'db',
        version: 'v1',
        metadata: { name: 'pg', labels: { env: 'test' } },
        spec: { protocol: 'postgres', uri: `127.0.0.1:${port}` },
      },
      role('pg-access', { db_labels: { env: 'test' }, db_users: ['alice'], db_names: ['app'], rules: rule }),
      // The guide's case: labels match, but no read/list rule on db_server.
      role('pg-no-rule', { db_labels: { env: 'test' }, db_users: ['alice'], db_names: ['app'] }),
      role('pg-other-labels', {
        db_labels: { env: 'prod' },
        db_users: ['alice'],
        db_names: ['app'],
        rules: rule,
      }),
      {
        kind: 'bot',
        version: 'v1',
        metadata: { name: 'pg-bot' },
        spec: { roles: ['pg-access', 'pg-no-rule', 'pg-other-labels'] },
      },
    ]),
    { format: 'json' },
  )
}

// Outside the suite: without PostgreSQL this is a failed test naming the package, on top of the
// suite's failed `before` hook (whose tests node:test reports as cancelled, not failed).
it('PostgreSQL is installed (else: apt-get install -y postgresql)', () => {
  assert.match(findPostgresBinaries().version, /^\d+/)
})

describe('e2e: database output accepted by a real PostgreSQL', { timeout: 120_000 }, () => {
  let dir: string
  let pg: Postgres
  let service: AuthService
  let results: Map<string, OutputResult>
  const out = (name: string, file: string) => join(dir, name, file)

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credbroker-pg-e2e-'))
    service = await newAuthService('pg.local')
    const db = service.deps.cas.db
    const serverKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const now = new Date()
    const serverCert = await issueServerCertificate(
      db,
      {
        publicKey: serverKey.publicKey.export({ type: 'spki', format: 'der' }),
        names: ['127.0.0.1', 'localhost'],
        now,
        notAfter: new Date(now.getTime() + HOUR_MS),
      },
      cryptoRandom,
    )
    const serverKeyPem = serverKey.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
    // Kept to show that the shared database CA's server certificate is no client certificate.
    writeFileSync(join(dir, 'server.crt'), serverCert.pem)
    writeFileSync(join(dir, 'server.key'), serverKeyPem, { mode: 0o600 })
    pg = await startPostgres({
      serverCertPem: serverCert.pem,
      serverKeyPem,
      clientCaPem: db.trustedTlsPems.join(''),
    })
    await pg.superuser('CREATE ROLE alice LOGIN')
    await pg.superuser('CREATE ROLE bob LOGIN')
    await pg.superuser('CREATE DATABASE app OWNER alice')

    await applyResources(service.deps.resources, resources(pg.port))
    const { token } = await addJoinToken(service.deps, 'pg-bot')
    const destination = (name: string) => ({ type: 'directory', path: join(dir, name) })
    const database = (name: string, extra: object) => ({
      type: 'database',
      name,
      roles: ['pg-access'],
      service: 'pg',
      username: 'alice',
      database: 'app',
      destination: destination(name),
      ...extra,
    })
    const { config } = validateBotConfig(
      {
        version: 'v1',
        auth_server: BASE_URL,
        onboarding: { join_method: 'token', token },
        storage: { type: 'memory' },
        outputs: [
          database('tls', { format: 'tls' }),
          database('cockroach', { format: 'cockroach' }),
          database('mongo', { format: 'mongo' }),
          database('rsa', { format: 'tls', key_algorithm: 'rsa-2048' }),
          { type: 'identity', name: 'identity', roles: ['pg-access'], destination: destination('identity') },
          database('no-rule', { roles: ['pg-no-rule'] }),
          database('other-labels', { roles: ['pg-other-labels'] }),
          database('bob', { username: 'bob' }),
          database('other-name', { database: 'postgres' }),
        ],
      },
      { baseDir: dir },
    )
    const { storage, destinations } = openBotDestinations(config, systemClock)
    const client = new AuthClient({ baseUrl: BASE_URL, fetch: async (u, i) => service.app.request(u, i) })
    const cycle = await runCycle({
      config,
      client,
      storage,
      destinations,
      clock: systemClock,
      log: silentLogger,
    })
    results = new Map(cycle.outputs.map((o) => [o.output, o]))
  })

  after(async () => {
    await pg?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /** The `tls` output's files, optionally with another certificate and key. */
  function tlsFiles(overrides: { sslcert?: string; sslkey?: string } = {}) {
    return {
      sslcert: out('tls', 'tls.crt'),
      sslkey: out('tls', 'tls.key'),
      sslrootcert: out('tls', 'tls.cas'),
      ...overrides,
    }
  }

  it('ok/the tls, cockroach, mongo and identity outputs are written', () => {
    for (const name of ['tls', 'cockroach', 'mongo', 'identity']) {
      const result = results.get(name)
      assert.equal(result?.ok, true, JSON.stringify(result))
    }
  })

  it('ok/psql connects as alice to app with tls.crt, tls.key and tls.cas (verify-full)', async () => {
    const result = await pg.tryConnect({
      user: 'alice',
      dbname: 'app',
      ...tlsFiles(),
      sql: 'SELECT current_user, current_database()',
    })
    assert.equal(result.ok, true, `${result.output}\n${pg.log()}`)
    assert.equal(result.stdout, 'alice|app')
  })

  it('ok/the connection is TLS with the client certificate', async () => {
    const sql = 'SELECT ssl, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()'
    const result = await pg.tryConnect({ user: 'alice', dbname: 'app', ...tlsFiles(), sql })
    assert.equal(result.ok, true, result.output)
    assert.equal(result.stdout, 't|/CN=alice')
  })

  it('fail/the same certificate cannot connect as bob (the certificate CN is alice)', async () => {
    const from = pg.log().length
    const result = await pg.tryConnect({ user: 'bob', dbname: 'app', ...tlsFiles() })
    assert.equal(result.ok, false)
    assert.match(result.output, /FATAL: +certificate authentication failed for user "bob"/)
    await pg.waitForLog(/provided user name \(bob\) and authenticated user name \(alice\) do not match/, {
      from,
    })
  })

  it('fail/a certificate for alice from another database CA is refused in the TLS handshake', async () => {
    const other = await newAuthService('other.local')
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const spki = parseSpki(key.publicKey.export({ type: 'spki', format: 'der' }))
    assert.ok(spki)
    const now = new Date()
    const cert = await issueRoutedCertificate(
      other.deps.cas.db,
      {
        identity: {
          user: 'bot-pg-bot',
          roles: ['pg-access'],
          logins: [],
          generation: 0,
          renewable: false,
          disallowReissue: true,
        },
        publicKey: spki,
        now,
        notAfter: new Date(now.getTime() + HOUR_MS),
        subject: { commonName: 'alice', organizations: [] },
      },
      cryptoRandom,
    )
    const sslcert = join(dir, 'other-ca.crt')
    const sslkey = join(dir, 'other-ca.key')
    writeFileSync(sslcert, cert.tlsCertPem)
    writeFileSync(sslkey, key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 })

    const from = pg.log().length
    const result = await pg.tryConnect({ user: 'alice', dbname: 'app', ...tlsFiles({ sslcert, sslkey }) })

    assert.equal(result.ok, false)
    assert.match(result.output, /SSL error: tlsv1 alert unknown ca/)
    await pg.waitForLog(/could not accept SSL connection: certificate verify failed/, { from })
  })

  it("fail/the identity output's certificate (user CA, not the database CA) is refused", async () => {
    const from = pg.log().length
    const result = await pg.tryConnect({
      user: 'alice',
      dbname: 'app',
      ...tlsFiles({ sslcert: out('identity', 'tlscert'), sslkey: out('identity', 'key') }),
    })
    assert.equal(result.ok, false)
    assert.match(result.output, /SSL error: tlsv1 alert unknown ca/)
    await pg.waitForLog(/could not accept SSL connection: certificate verify failed/, { from })
  })

  it('fail/a server certificate of the same database CA is refused as a client certificate', async () => {
    // The database CA signs both sides; only extendedKeyUsage (serverAuth vs clientAuth) keeps a
    // database server's certificate from logging in to another database.
    const from = pg.log().length
    const result = await pg.tryConnect({
      user: 'alice',
      dbname: 'app',
      ...tlsFiles({ sslcert: join(dir, 'server.crt'), sslkey: join(dir, 'server.key') }),
    })
    assert.equal(result.ok, false)
    assert.match(result.output, /SSL error: sslv3 alert unsupported certificate/)
    await pg.waitForLog(/could not accept SSL connection: certificate verify failed/, { from })
  })

  it('ok/openssl verify accepts tls.crt against tls.cas as a TLS client certificate', async () => {
    const result = await opensslVerify({
      caPems: [readFileSync(out('tls', 'tls.cas'), 'utf8')],
      leafPem: readFileSync(out('tls', 'tls.crt'), 'utf8'),
      purpose: 'sslclient',
    })
    assert.equal(result.ok, true, result.output)
    assert.equal(new X509Certificate(readFileSync(out('tls', 'tls.crt'))).subject, 'CN=alice')
  })

  for (const name of ['no-rule', 'other-labels']) {
    it(`fail/${name}: a database the roles cannot see is "not found" (troubleshooting guide)`, () => {
      const result = results.get(name)
      assert.ok(result && !result.ok, JSON.stringify(result))
      assert.equal(result.code, 'ERR_NOT_FOUND')
      assert.equal(result.message, 'database "pg" not found')
    })
  }

  it('fail/a username db_users does not allow is denied', () => {
    const result = results.get('bob')
    assert.ok(result && !result.ok, JSON.stringify(result))
    assert.equal(result.code, 'ERR_ACCESS_DENIED')
    assert.match(result.message, /access to database "pg" denied: .*user "bob"/)
  })

  it('fail/a database name db_names does not allow is denied', () => {
    const result = results.get('other-name')
    assert.ok(result && !result.ok, JSON.stringify(result))
    assert.equal(result.code, 'ERR_ACCESS_DENIED')
    assert.match(result.message, /access to database "pg" denied: .*database name "postgres"/)
  })

  it('ok/cockroach format: client.alice.crt/.key and ca.crt, and psql accepts them', async () => {
    const crt = readFileSync(out('cockroach', 'client.alice.crt'), 'utf8')
    assertKeyMatches(crt, readFileSync(out('cockroach', 'client.alice.key'), 'utf8'))
    assert.equal(
      readFileSync(out('cockroach', 'ca.crt'), 'utf8'),
      service.deps.cas.db.trustedTlsPems.join(''),
    )
    assert.equal(new X509Certificate(crt).subject, 'CN=alice')
    const result = await pg.tryConnect({
      user: 'alice',
      dbname: 'app',
      sslcert: out('cockroach', 'client.alice.crt'),
      sslkey: out('cockroach', 'client.alice.key'),
      sslrootcert: out('cockroach', 'ca.crt'),
    })
    assert.equal(result.ok, true, result.output)
  })

  it('ok/key_algorithm rsa-2048: an RSA 2048 client key, still CN=alice from the database CA, and psql accepts it', async () => {
    const result = results.get('rsa')
    assert.equal(result?.ok, true, JSON.stringify(result))
    const crt = readFileSync(out('rsa', 'tls.crt'), 'utf8')
    const key = readFileSync(out('rsa', 'tls.key'), 'utf8')
    assertKeyMatches(crt, key)
    const details = createPrivateKey(key).asymmetricKeyDetails
    assert.equal(createPrivateKey(key).asymmetricKeyType, 'rsa')
    assert.equal(details?.modulusLength, 2048)
    assert.equal(new X509Certificate(crt).subject, 'CN=alice')
    const connected = await pg.tryConnect({
      user: 'alice',
      dbname: 'app',
      sslcert: out('rsa', 'tls.crt'),
      sslkey: out('rsa', 'tls.key'),
      sslrootcert: out('rsa', 'tls.cas'),
    })
    assert.equal(connected.ok, true, connected.output)
  })

  it('ok/mongo format: mongo.crt holds the certificate then its key; mongo.cas the database CA', () => {
    const combined = readFileSync(out('mongo', 'mongo.crt'), 'utf8')
    const blocks = combined.match(/-----BEGIN ([A-Z ]+)-----/g)
    assert.deepEqual(blocks, ['-----BEGIN CERTIFICATE-----', '-----BEGIN PRIVATE KEY-----'])
    assertKeyMatches(combined, combined)
    assert.equal(new X509Certificate(combined).subject, 'CN=alice')
    assert.equal(readFileSync(out('mongo', 'mongo.cas'), 'utf8'), service.deps.cas.db.trustedTlsPems.join(''))
  })
})

/** The certificate's public key is the private key's (X509Certificate and createPrivateKey read the first matching PEM block). */
function assertKeyMatches(certPem: string, keyPem: string): void {
  const fromCert = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' })
  const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' })
  assert.ok(fromCert.equals(fromKey), 'certificate and key do not match')
}
