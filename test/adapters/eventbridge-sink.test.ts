/**
 * The EventBridge sink against moto: an event published on a bus reaches an SQS queue through a
 * rule matching `source: credbroker.auth`, and the message read back shows the event's shape
 * (source, detail-type, detail with `event_bus`). Events, rules, targets and the queue are set up
 * with requests signed like the sink's own (the project has no SDK client for them).
 */
import assert from 'node:assert/strict'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { Hash } from '@smithy/hash-node'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'
import { createEventBridgeClient } from '../../lib/adapters/eventbridge/client.ts'
import { AUTH_EVENT_SOURCE, EventBridgeSink } from '../../lib/adapters/eventbridge/sink.ts'
import { ManualClock, systemClock } from '../../lib/clock.ts'
import { MOTO_ACCOUNT_ID, type MotoServer, startMoto } from '../helpers/moto.ts'

let moto: MotoServer

/** One AWS JSON-protocol call to moto, signed with the admin credentials. */
async function awsJson(service: string, target: string, version: '1.0' | '1.1', body: object) {
  const url = new URL(moto.endpoint)
  const text = JSON.stringify(body)
  const request = new HttpRequest({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: {
      host: url.host,
      'content-type': `application/x-amz-json-${version}`,
      'x-amz-target': target,
    },
    body: text,
  })
  const signer = new SignatureV4({
    service,
    region: moto.region,
    sha256: Hash.bind(null, 'sha256'),
    credentials: moto.adminCredentials,
  })
  const signed = (await signer.sign(request)) as HttpRequest
  const res = await fetch(url, { method: 'POST', headers: signed.headers, body: text })
  const answer = await res.text()
  assert.ok(res.ok, `${target}: ${res.status} ${answer}`)
  return (answer === '' ? {} : JSON.parse(answer)) as Record<string, unknown>
}

/** A bus whose rule forwards credbroker.auth events to a fresh queue; returns the queue URL. */
async function busToQueue(bus: string): Promise<string> {
  await awsJson('events', 'AWSEvents.CreateEventBus', '1.1', { Name: bus })
  const queue = await awsJson('sqs', 'AmazonSQS.CreateQueue', '1.0', { QueueName: `${bus}-q` })
  const queueArn = `arn:aws:sqs:${moto.region}:${MOTO_ACCOUNT_ID}:${bus}-q`
  await awsJson('events', 'AWSEvents.PutRule', '1.1', {
    Name: `${bus}-reissue`,
    EventBusName: bus,
    EventPattern: JSON.stringify({ source: [AUTH_EVENT_SOURCE] }),
  })
  await awsJson('events', 'AWSEvents.PutTargets', '1.1', {
    Rule: `${bus}-reissue`,
    EventBusName: bus,
    Targets: [{ Id: 'queue', Arn: queueArn }],
  })
  return queue.QueueUrl as string
}

async function receive(queueUrl: string): Promise<Record<string, unknown>[]> {
  const out = await awsJson('sqs', 'AmazonSQS.ReceiveMessage', '1.0', {
    QueueUrl: queueUrl,
    MaxNumberOfMessages: 10,
  })
  const messages = (out.Messages ?? []) as Array<{ Body: string }>
  return messages.map((m) => JSON.parse(m.Body) as Record<string, unknown>)
}

function sinkOn(bus: string, clock = new ManualClock(Date.UTC(2026, 10, 22, 12))) {
  const client = createEventBridgeClient({
    region: moto.region,
    endpoint: moto.endpoint,
    credentials: async () => moto.adminCredentials,
    clock: systemClock, // signatures need the real time; the entry's Time is the injected clock's
  })
  return new EventBridgeSink({ bus, client, clock })
}

describe('EventBridgeSink on moto', () => {
  before(async () => {
    moto = await startMoto()
  })
  after(async () => {
    await moto?.stop()
  })

  it('ok/an event reaches a rule’s target with source, detail-type and detail (event_bus added)', async () => {
    const queue = await busToQueue('credbroker-test')
    await sinkOn('credbroker-test').publish({
      type: 'lock.deleted',
      detail: { lock: 'a1b2', user: 'admin', target: 'user bot-ci' },
    })
    const [event, ...rest] = await receive(queue)
    assert.equal(rest.length, 0)
    assert.equal(event?.source, AUTH_EVENT_SOURCE)
    assert.equal(event?.['detail-type'], 'lock.deleted')
    assert.equal(event?.version, '0')
    assert.equal(event?.region, moto.region)
    assert.deepEqual(event?.detail, {
      lock: 'a1b2',
      user: 'admin',
      target: 'user bot-ci',
      event_bus: 'credbroker-test',
    })
    assert.equal(event?.time, '2026-11-22T12:00:00Z')
  })

  it('ok/an event on another bus never reaches this bus’s rule', async () => {
    const queue = await busToQueue('credbroker-watched')
    await awsJson('events', 'AWSEvents.CreateEventBus', '1.1', { Name: 'credbroker-other' })
    await sinkOn('credbroker-other').publish({ type: 'role.updated', detail: { role: 'access' } })
    assert.deepEqual(await receive(queue), [])
  })

  it('fail/a bus that does not exist: ERR_UPSTREAM_UNAVAILABLE', async () => {
    await assert.rejects(sinkOn('credbroker-missing').publish({ type: 'role.deleted', detail: {} }), {
      code: 'ERR_UPSTREAM_UNAVAILABLE',
    })
  })

  it('fail/an unreachable endpoint: ERR_UPSTREAM_UNAVAILABLE', async () => {
    const client = createEventBridgeClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: async () => moto.adminCredentials,
      clock: systemClock,
    })
    await assert.rejects(new EventBridgeSink({ bus: 'b', client }).publish({ type: 'x', detail: {} }), {
      code: 'ERR_UPSTREAM_UNAVAILABLE',
    })
  })

  it('fail/an endpoint that never answers: ERR_UPSTREAM_UNAVAILABLE after the timeout, not a hung request', async () => {
    const held: ServerResponse[] = []
    const server = createServer((_req, res) => void held.push(res)) // accepts, never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const client = createEventBridgeClient({
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        credentials: async () => moto.adminCredentials,
        clock: systemClock,
        timeoutMs: 100,
      })
      await assert.rejects(new EventBridgeSink({ bus: 'b', client }).publish({ type: 'x', detail: {} }), {
        code: 'ERR_UPSTREAM_UNAVAILABLE',
      })
    } finally {
      for (const res of held) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('fail/a bad bus name is a config error naming the option', () => {
    const client = { putEvents: async () => ({}) }
    assert.throws(() => new EventBridgeSink({ bus: 'no spaces', client }), {
      code: 'ERR_INVALID_CONFIG',
    })
  })
})
