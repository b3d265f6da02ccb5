/**
 * An OpenSSH user certificate never has an empty principal list: OpenSSH's certificate format
 * makes an empty list valid for every principal, which some verifiers (Go's x/crypto/ssh) honour.
 * An identity without logins gets one placeholder principal no account can be named.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { describe, it } from 'node:test'
import { MemoryKeyStore } from '../../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../../lib/adapters/memory/store.ts'
import { loadOrCreateAuthorities } from '../../../lib/ca/authorities.ts'
import { issueUserCertificates } from '../../../lib/ca/issue-user-certificates.ts'
import { parseSpki } from '../../../lib/ca/spki.ts'
import { ManualClock } from '../../../lib/clock.ts'
import type { Identity } from '../../../lib/identity/identity.ts'
import { cryptoRandom } from '../../../lib/random.ts'
import { sshKeygenList } from '../../helpers/sshd.ts'

async function issue(logins: string[]) {
  const clock = new ManualClock()
  const cas = await loadOrCreateAuthorities({
    store: new MemoryStore({ clock }),
    keys: new MemoryKeyStore(),
    clusterName: 'test.local',
    clock,
    random: cryptoRandom,
  })
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
    type: 'spki',
    format: 'der',
  })
  const publicKey = parseSpki(spki)
  assert.ok(publicKey)
  const identity: Identity = {
    user: 'bot-db',
    roles: ['db-only'],
    logins,
    generation: 0,
    renewable: false,
    disallowReissue: true,
  }
  const now = clock.now()
  const certs = await issueUserCertificates(
    cas.user,
    { identity, publicKey, now, notAfter: new Date(now.getTime() + 3_600_000) },
    cryptoRandom,
  )
  return sshKeygenList(certs.sshCert)
}

describe('issueUserCertificates: SSH principals', () => {
  it('ok/logins become the principals', async () => {
    const listed = await issue(['alice', 'bob'])
    assert.match(listed, /Principals:\s+alice\s+bob\s/)
  })

  it('ok/no logins: one unusable placeholder principal, never an empty list', async () => {
    const listed = await issue([])
    assert.doesNotMatch(listed, /Principals: \(none\)/)
    assert.match(listed, /Principals:\s+-credbroker-nologin-[0-9a-f]{16}\s/)
  })
})
