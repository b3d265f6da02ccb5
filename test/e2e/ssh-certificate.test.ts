/**
 * OpenSSH user certificates from `signSshCertificate`, proven against the real OpenSSH tools:
 * `ssh-keygen -L` must list every field, and a real sshd on 127.0.0.1 that trusts our CAs must
 * accept exactly the certificates it should (principal mapping, validity, CA signature).
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { LocalSigner } from '../../lib/adapters/local/signer.ts'
import { type SshCertificateTemplate, signSshCertificate } from '../../lib/ca/ssh/certificate.ts'
import { authorizedKeyLine, publicKeyBlob } from '../../lib/ca/ssh/public-key.ts'
import type { SignatureAlgorithm } from '../../lib/ports/signer.ts'
import { type SshUserKeyType, writeKeyPair } from '../helpers/ssh-keys.ts'
import { currentUser, type Sshd, sshKeygenList, startSshd } from '../helpers/sshd.ts'

const HOUR_MS = 3_600_000

interface CaCase {
  readonly name: string
  readonly ca: LocalSigner
  /** How ssh-keygen and sshd name the CA key type. */
  readonly label: 'ED25519' | 'ECDSA'
  readonly sigType: string
  /** A user key of the other type, so both subject key encodings meet both CA signatures. */
  readonly userKey: SshUserKeyType
}

function caCase(algorithm: SignatureAlgorithm, userKey: SshUserKeyType): CaCase {
  const ca = LocalSigner.generate(algorithm)
  return algorithm === 'ed25519'
    ? { name: 'Ed25519 CA', ca, label: 'ED25519', sigType: 'ssh-ed25519', userKey }
    : { name: 'ECDSA P-256 CA', ca, label: 'ECDSA', sigType: 'ecdsa-sha2-nistp256', userKey }
}

const cas = [caCase('ed25519', 'ecdsa-p256'), caCase('ecdsa-p256-sha256', 'ed25519')] as const
const [edCa] = cas

/** `SHA256:…` as OpenSSH prints key fingerprints (unpadded base64 of the blob's SHA-256). */
function fingerprint(publicKey: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(publicKeyBlob(publicKey)).digest('base64').replace(/=+$/, '')}`
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

describe('OpenSSH user certificates', { timeout: 60_000 }, () => {
  let dir: string
  let sshd: Sshd
  const user = currentUser()
  let issued = 0

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credbroker-ssh-e2e-'))
    sshd = await startSshd({
      trustedUserCaKeys: cas.map((c) => authorizedKeyLine(c.ca.publicKey, c.name)),
      principalsFor: { [user]: ['alice'] },
    })
  })

  after(async () => {
    await sshd?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /** A fresh user key plus a certificate for it, written under names no other case uses. */
  async function issue(ca: CaCase, overrides: Partial<SshCertificateTemplate> = {}) {
    const name = `case-${++issued}`
    const key = writeKeyPair(dir, ca.userKey, name)
    const now = Date.now()
    const template: SshCertificateTemplate = {
      type: 'user',
      publicKey: key.publicKey,
      keyId: `${name}@credbroker-e2e`,
      principals: ['alice'],
      serial: BigInt(issued),
      validAfter: new Date(now - 60_000),
      validBefore: new Date(now + HOUR_MS),
      extensions: { 'permit-pty': '' },
      nonce: randomBytes(32),
      ...overrides,
    }
    const cert = await signSshCertificate(template, ca.ca)
    // Not `<keyFile>-cert.pub`: ssh would offer that one on its own as well.
    const certFile = join(dir, `${name}.cert.pub`)
    writeFileSync(certFile, `${cert.line}\n`)
    return { keyFile: key.keyFile, certFile, cert, template }
  }

  for (const ca of cas) {
    test(`ok/ssh-keygen -L lists every field (${ca.name})`, async () => {
      // Prepare: fixed times (listed in UTC), a serial above 2^53, both kinds of extension.
      const { cert, template } = await issue(ca, {
        keyId: 'bot-alice/renewal-7',
        serial: 2n ** 63n + 5n,
        principals: ['alice', 'ops'],
        validAfter: new Date('2030-01-02T03:04:05Z'),
        validBefore: new Date('2030-01-02T04:04:05Z'),
        criticalOptions: { 'source-address': '127.0.0.1/32' },
        extensions: { 'permit-pty': '', 'renewable@credbroker': '', 'bot@credbroker': 'bot-alice' },
      })

      // Act
      const listing = await sshKeygenList(cert.line)

      // Assess
      const userKeyType = ca.userKey === 'ed25519' ? 'ssh-ed25519' : 'ecdsa-sha2-nistp256'
      assert.match(listing, new RegExp(`Type: ${userKeyType}-cert-v01@openssh.com user certificate`))
      assert.ok(
        listing.includes(`Signing CA: ${ca.label} ${fingerprint(ca.ca.publicKey)} (using ${ca.sigType})`),
        listing,
      )
      assert.ok(listing.includes(`Key ID: "${template.keyId}"`), listing)
      assert.ok(listing.includes(`Serial: ${2n ** 63n + 5n}`), listing)
      assert.ok(listing.includes('Valid: from 2030-01-02T03:04:05 to 2030-01-02T04:04:05'), listing)
      assert.match(listing, /Principals: \n\s+alice\n\s+ops\n/)
      assert.match(listing, /Critical Options: \n\s+source-address 127\.0\.0\.1\/32\n/)
      // ssh-keygen shows an unknown valued extension as the hex of its wrapped SSH string.
      const wrapped = Buffer.concat([Buffer.from([0, 0, 0, 9]), Buffer.from('bot-alice')])
      assert.ok(
        listing.includes(`bot@credbroker UNKNOWN OPTION: ${wrapped.toString('hex')} (len 13)`),
        listing,
      )
      assert.match(listing, /\n\s+permit-pty\n/)
      assert.match(listing, /\n\s+renewable@credbroker UNKNOWN FLAG OPTION\n/)
    })

    test(`ok/sshd accepts principal alice and runs the command (${ca.name})`, async () => {
      // Prepare
      const { keyFile, certFile, template } = await issue(ca)
      const from = sshd.log().length

      // Act
      const result = await sshd.tryLogin({ user, keyFile, certFile, command: 'printf %s credbroker-e2e' })

      // Assess
      assert.equal(result.ok, true, result.stderr)
      assert.equal(result.stdout, 'credbroker-e2e')
      await sshd.waitForLog(
        new RegExp(
          `Accepted certificate ID "${escapeRegExp(template.keyId)}" \\(serial ${template.serial}\\) signed by ${ca.label} CA`,
        ),
        { from },
      )
    })

    test(`fail/sshd rejects a certificate without an authorized principal (${ca.name})`, async () => {
      const { keyFile, certFile } = await issue(ca, { principals: ['bob'] })
      const from = sshd.log().length

      const result = await sshd.tryLogin({ user, keyFile, certFile })

      assert.equal(result.ok, false)
      assert.equal(result.stdout, '')
      assert.match(result.stderr, /Permission denied/)
      await sshd.waitForLog(/Certificate does not contain an authorized principal/, { from })
    })

    test(`fail/sshd rejects an expired certificate (${ca.name})`, async () => {
      const now = Date.now()
      const { keyFile, certFile } = await issue(ca, {
        validAfter: new Date(now - 2 * HOUR_MS),
        validBefore: new Date(now - HOUR_MS),
      })
      const from = sshd.log().length

      const result = await sshd.tryLogin({ user, keyFile, certFile })

      assert.equal(result.ok, false)
      assert.match(result.stderr, /Permission denied/)
      await sshd.waitForLog(/Certificate invalid: expired/, { from })
    })
  }

  for (const algorithm of ['ed25519', 'ecdsa-p256-sha256'] as const) {
    test(`fail/sshd rejects a certificate from an untrusted ${algorithm} CA`, async () => {
      // Prepare: same principal and validity as the accepted case, different signer.
      const rogue = caCase(algorithm, 'ed25519')
      const { keyFile, certFile } = await issue(rogue)
      const from = sshd.log().length

      const result = await sshd.tryLogin({ user, keyFile, certFile })

      assert.equal(result.ok, false)
      assert.match(result.stderr, /Permission denied/)
      // sshd names the CA it did not trust; nothing may have been accepted on the way.
      const rogueCa = `${rogue.label} ${escapeRegExp(fingerprint(rogue.ca.publicKey))}`
      const failed = new RegExp(
        `Failed publickey for ${user} from 127\\.0\\.0\\.1 port \\d+ ssh2: \\S+-CERT .* CA ${rogueCa}`,
      )
      const log = await sshd.waitForLog(failed, { from })
      assert.doesNotMatch(log, /Accepted /)
    })
  }

  test('ok/sshd enforces the force-command critical option', async () => {
    const { keyFile, certFile } = await issue(edCa, {
      criticalOptions: { 'force-command': 'printf %s forced', 'source-address': '127.0.0.1/32' },
    })

    const result = await sshd.tryLogin({ user, keyFile, certFile, command: 'printf %s requested' })

    assert.equal(result.ok, true, result.stderr)
    assert.equal(result.stdout, 'forced')
  })
})
