import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createLogger, formatLine } from '../../lib/log.ts'

describe('log', () => {
  it('formats simple values bare and others quoted', () => {
    assert.equal(
      formatLine('info', 'renewed', {
        output: 'db',
        roles: ['a', 'b'],
        note: 'two words',
        skipped: undefined,
      }),
      'INFO  renewed output=db roles=[a,b] note="two words"',
    )
  })

  it('drops lines below the configured level', () => {
    const lines: string[] = []
    const log = createLogger('warn', (l) => lines.push(l))
    log.info('hidden')
    log.warn('shown')
    log.error('shown too')
    assert.deepEqual(lines, ['WARN  shown', 'ERROR shown too'])
  })
})
