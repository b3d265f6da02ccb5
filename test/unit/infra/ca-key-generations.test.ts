/** `CREDBROKER_DEPLOY_CA_KEY_GENERATIONS`: the CA key generations provisioned ahead of a rotation. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadInfraConfig } from '../../../infra/config.ts'
import { CA_KEY_LABELS, caKeyLabels } from '../../../infra/contracts.ts'

const load = (value?: string) =>
  loadInfraConfig({
    app: 'credbroker',
    stage: 'dev',
    env: value === undefined ? {} : { CREDBROKER_DEPLOY_CA_KEY_GENERATIONS: value },
  })

describe('CA key generations', () => {
  it('ok/unset: generation 0 only, the six labels the CAs start with', () => {
    assert.deepEqual(load().caKeyGenerations, [])
    assert.deepEqual(caKeyLabels([]), [...CA_KEY_LABELS])
  })

  it('ok/each <ca>:<generation> adds that CA’s labels with the generation, as the auth service asks for them', () => {
    const config = load(' user:1, host:2,user:1 ')
    assert.deepEqual(config.caKeyGenerations, [
      { ca: 'user', generation: 1 },
      { ca: 'host', generation: 2 },
    ])
    assert.deepEqual(caKeyLabels(config.caKeyGenerations).slice(CA_KEY_LABELS.length), [
      'user-tls-1',
      'user-ssh-1',
      'host-tls-2',
      'host-ssh-2',
    ])
    assert.deepEqual(caKeyLabels([{ ca: 'jwt', generation: 3 }]).slice(-1), ['jwt-jwt-3'])
  })

  for (const bad of ['user', 'user:0', 'admin:1', 'user:1000', 'user:-1', 'user:1;host:1']) {
    it(`fail/${bad}`, () =>
      assert.throws(() => load(bad), {
        code: 'ERR_INVALID_CONFIG',
        message: /^CREDBROKER_DEPLOY_CA_KEY_GENERATIONS: /,
      }))
  }
})
