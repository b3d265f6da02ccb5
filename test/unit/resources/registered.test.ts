import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { doc, runCases } from './cases.ts'

describe('Schema: db, kube_cluster, app, node', () => {
  runCases([
    {
      name: 'ok/db',
      doc: doc(
        'db',
        { protocol: 'postgres', uri: '127.0.0.1:5432' },
        { name: 'example', labels: { env: 'dev' } },
      ),
    },
    { name: 'ok/db with hostname and ipv6', doc: doc('db', { protocol: 'mysql', uri: '[::1]:3306' }) },
    {
      name: 'ok/db on a dns name',
      doc: doc('db', { protocol: 'cockroachdb', uri: 'db-1.internal.example.com:26257' }),
    },
    {
      name: 'ok/kube cluster without spec',
      doc: { kind: 'kube_cluster', version: 'v1', metadata: { name: 'k' } },
      check: (r) => assert.deepEqual(r.spec, {}),
    },
    {
      name: 'ok/kube cluster with server',
      doc: doc('kube_cluster', { server: 'https://k8s.example.com:6443' }),
    },
    { name: 'ok/app', doc: doc('app', { uri: 'http://localhost:8080', public_addr: 'grafana.example.com' }) },
    { name: 'ok/node', doc: doc('node', { hostname: 'localhost', addr: '127.0.0.1:2222' }) },
    {
      name: 'fail/db protocol',
      doc: doc('db', { protocol: 'oracle', uri: 'a:1' }),
      field: 'spec.protocol',
      message: /"postgres", "mysql", "mongodb", "cockroachdb"/,
    },
    {
      name: 'fail/db uri without port',
      doc: doc('db', { protocol: 'postgres', uri: 'localhost' }),
      field: 'spec.uri',
      message: /host:port/,
    },
    {
      name: 'fail/db uri port 0',
      doc: doc('db', { protocol: 'postgres', uri: 'localhost:0' }),
      field: 'spec.uri',
    },
    {
      name: 'fail/db uri port 70000',
      doc: doc('db', { protocol: 'postgres', uri: 'localhost:70000' }),
      field: 'spec.uri',
    },
    {
      name: 'fail/db uri as a url',
      doc: doc('db', { protocol: 'postgres', uri: 'postgres://localhost:5432' }),
      field: 'spec.uri',
    },
    {
      name: 'fail/db misspelt field',
      doc: doc('db', { protocl: 'postgres', uri: 'a:1' }),
      field: 'spec.protocl',
      message: /did you mean "protocol"/,
    },
    {
      name: 'fail/kube server over http',
      doc: doc('kube_cluster', { server: 'http://k8s:6443' }),
      field: 'spec.server',
      message: /https:\/\//,
    },
    { name: 'fail/app uri not a url', doc: doc('app', { uri: 'localhost:8080' }), field: 'spec.uri' },
    {
      name: 'fail/app public_addr with scheme',
      doc: doc('app', { uri: 'http://a', public_addr: 'https://x' }),
      field: 'spec.public_addr',
    },
    {
      name: 'fail/node hostname with space',
      doc: doc('node', { hostname: 'my host', addr: 'a:22' }),
      field: 'spec.hostname',
    },
    {
      name: 'fail/node missing addr',
      doc: doc('node', { hostname: 'h' }),
      field: 'spec.addr',
      message: /is required/,
    },
  ])
})
