/** Every example shipped in examples/iam parses: the docs point users at them. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { parseBotConfig } from '../../lib/bot/config.ts'
import { parseResources } from '../../lib/resources/parse.ts'

describe('examples/iam', () => {
  it('ok/the Lambda token is an iam token with an assumed-role ARN rule', () => {
    const [token] = parseResources(readFileSync('examples/iam/token-lambda.yaml', 'utf8'))
    assert.equal(token?.kind, 'token')
    assert.equal(token?.kind === 'token' && token.spec.join_method, 'iam')
    assert.match(token?.kind === 'token' ? (token.spec.allow[0]?.aws_arn ?? '') : '', /:assumed-role\//)
  })

  it('ok/the Lambda bot joins with iam and needs no stored secret', () => {
    const { config, warnings } = parseBotConfig(readFileSync('examples/iam/bot-lambda.yaml', 'utf8'), {
      baseDir: '/srv',
    })
    assert.deepEqual(config.onboarding, { joinMethod: 'iam', tokenName: 'lambda-bot' })
    assert.equal(config.storage.type, 'memory')
    assert.deepEqual(warnings, [])
  })
})
