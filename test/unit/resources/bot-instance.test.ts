import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { type BotInstance, HISTORY_LIMIT } from '../../../lib/resources/types.ts'
import { doc, runCases } from './cases.ts'

const ID = '3f2c0b7e-8d1a-4c56-9e0f-2b7a4d1c9e85'
const OTHER = '9a1d2c3b-4e5f-4a6b-8c7d-0e1f2a3b4c5d'

const instance = (status?: unknown, spec: object = {}, name = ID) => ({
  ...doc('bot_instance', { bot_name: 'ci', instance_id: ID, ...spec }, { name }),
  ...(status !== undefined && { status }),
})

const auth = {
  authenticated_at: '2026-01-01T00:00:00Z',
  join_method: 'iam',
  join_token: 'ci-iam',
  generation: 0,
  public_key_fingerprint: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
}
const beat = {
  recorded_at: '2026-01-01T00:00:05.123+02:00',
  hostname: 'runner-1.example.com',
  version: '0.1.0',
  one_shot: true,
  is_startup: true,
  uptime_seconds: 5,
}

describe('Schema: bot_instance', () => {
  runCases([
    {
      name: 'ok/status defaults to generation 0 and empty histories',
      doc: instance(),
      check: (r) =>
        assert.deepEqual((r as BotInstance).status, {
          generation: 0,
          latest_authentications: [],
          latest_heartbeats: [],
        }),
    },
    {
      name: 'ok/full status and previous instance',
      doc: instance(
        {
          generation: 3,
          initial_authentication: auth,
          latest_authentications: [auth],
          latest_heartbeats: [beat],
        },
        { previous_instance_id: OTHER },
      ),
    },
    {
      name: 'ok/histories at the limit',
      doc: instance({
        generation: 1,
        latest_authentications: Array(HISTORY_LIMIT).fill(auth),
        latest_heartbeats: Array(HISTORY_LIMIT).fill(beat),
      }),
    },
    {
      name: 'fail/name differs from instance_id',
      doc: instance(undefined, {}, OTHER),
      field: 'metadata.name',
      message: /must equal spec.instance_id/,
    },
    {
      name: 'fail/instance id not a uuid',
      doc: instance(undefined, { instance_id: 'abc' }, 'abc'),
      field: 'spec.instance_id',
      message: /UUID/,
    },
    {
      name: 'fail/upper-case uuid',
      doc: instance(undefined, { instance_id: ID.toUpperCase() }, ID.toUpperCase()),
      field: 'spec.instance_id',
    },
    {
      name: 'fail/too many authentications',
      doc: instance({ generation: 1, latest_authentications: Array(HISTORY_LIMIT + 1).fill(auth) }),
      field: 'status.latest_authentications',
      message: /at most 10 entries/,
    },
    {
      name: 'fail/too many heartbeats',
      doc: instance({ generation: 1, latest_heartbeats: Array(HISTORY_LIMIT + 1).fill(beat) }),
      field: 'status.latest_heartbeats',
    },
    {
      name: 'fail/negative generation',
      doc: instance({ generation: -1 }),
      field: 'status.generation',
      message: /must not be negative/,
    },
    { name: 'fail/fractional generation', doc: instance({ generation: 1.5 }), field: 'status.generation' },
    {
      name: 'fail/generation as a string',
      doc: instance({ generation: '1' }),
      field: 'status.generation',
      message: /expected a whole number/,
    },
    {
      name: 'fail/bad instant in an authentication',
      doc: instance({ latest_authentications: [{ ...auth, authenticated_at: '2026-02-30T00:00:00Z' }] }),
      field: 'status.latest_authentications[0].authenticated_at',
      message: /RFC 3339/,
    },
    {
      name: 'fail/unknown field in a heartbeat',
      doc: instance({ latest_heartbeats: [{ ...beat, os: 'linux' }] }),
      field: 'status.latest_heartbeats[0].os',
    },
    {
      name: 'fail/unknown field in status',
      doc: instance({ generaton: 1 }),
      field: 'status.generaton',
      message: /did you mean "generation"/,
    },
  ])
})
