import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keyOf, listPrefix, nameOf, resourceKey } from '../../../lib/resources/keys.ts'
import { validateResource } from '../../../lib/resources/parse.ts'
import { assertFails, doc } from './cases.ts'

const ID = '3f2c0b7e-8d1a-4c56-9e0f-2b7a4d1c9e85'

describe('Module: resource keys', () => {
  it('ok/<kind>/<name> for every kind but bot_instance', () => {
    assert.equal(resourceKey('role', 'access'), 'role/access')
    assert.equal(resourceKey('db', 'example'), 'db/example')
    assert.equal(
      keyOf(validateResource(doc('node', { hostname: 'h', addr: 'h:22' }, { name: 'localhost' }))),
      'node/localhost',
    )
  })

  it('ok/bot instances sit under their bot', () => {
    const instance = validateResource(doc('bot_instance', { bot_name: 'ci', instance_id: ID }, { name: ID }))
    assert.equal(nameOf(instance), `ci/${ID}`)
    assert.equal(keyOf(instance), `bot_instance/ci/${ID}`)
    assert.equal(resourceKey('bot_instance', `ci/${ID}`), `bot_instance/ci/${ID}`)
    assert.equal(listPrefix('bot_instance', 'ci/'), 'bot_instance/ci/')
  })

  it('ok/list prefixes', () => {
    assert.equal(listPrefix('role'), 'role/')
    assert.equal(listPrefix('role', 'machine-'), 'role/machine-')
  })

  const bad: [string, Parameters<typeof resourceKey>[0], string][] = [
    ['fail/slash in a role name', 'role', 'a/b'],
    ['fail/empty name', 'role', ''],
    ['fail/space', 'db', 'my db'],
    ['fail/bot instance without id', 'bot_instance', 'ci'],
    ['fail/bot instance with a bad id', 'bot_instance', 'ci/123'],
    ['fail/bot instance with an extra segment', 'bot_instance', `ci/${ID}/x`],
  ]
  for (const [name, kind, value] of bad) {
    it(name, () => assertFails(() => resourceKey(kind, value), { code: 'ERR_BAD_REQUEST' }))
  }

  it('fail/token names are never echoed', () => {
    assert.throws(
      () => resourceKey('token', 'secret value'),
      (err: Error) => !err.message.includes('secret'),
    )
  })

  it('fail/prefix with a space', () =>
    assertFails(() => listPrefix('role', 'a b'), { code: 'ERR_BAD_REQUEST' }))
})
