import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryStore } from '../../../lib/adapters/memory/store.ts'
import { parseResources } from '../../../lib/resources/parse.ts'
import { applyResources } from '../../../lib/services/apply.ts'
import { ResourceService } from '../../../lib/services/resource-service.ts'

const docs = (ttl: string) =>
  parseResources(`
kind: role
version: v1
metadata: {name: access}
spec:
  allow: {logins: [alice]}
  options: {max_session_ttl: ${ttl}}
---
kind: bot
version: v1
metadata: {name: example}
spec: {roles: [access]}
`)

describe('applyResources', () => {
  it('creates, then leaves equal documents alone, then updates changed ones', async () => {
    const resources = new ResourceService({ store: new MemoryStore() })
    const first = await applyResources(resources, docs('8h'))
    assert.deepEqual(
      first.map((r) => r.action),
      ['created', 'created'],
    )
    const second = await applyResources(resources, docs('8h'))
    assert.deepEqual(
      second.map((r) => [r.action, r.revision]),
      first.map((r) => ['unchanged', r.revision]),
    )
    const third = await applyResources(resources, docs('4h'))
    assert.deepEqual(
      third.map((r) => r.action),
      ['updated', 'unchanged'],
    )
    assert.notEqual(third[0]?.revision, first[0]?.revision)
    assert.equal((await resources.get('role', 'access')).spec.options.max_session_ttl, '4h')
  })
})
