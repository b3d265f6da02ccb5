#!/usr/bin/env node
// Builds each Lambda function (functions/<name>/handler.ts) into one minified ESM file with
// esbuild, the way the deployment bundles them (Node 22, ESM, AWS SDK included so the deployed
// code runs the SDK version it was tested with), then reports per function the bundle size and
// the time a fresh Node process takes to import it (a cold start's module loading).
//
// Usage: npm run bundle [-- --json]      output: dist/functions/<name>/index.mjs (+ meta.json)
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { build } from 'esbuild'

const ROOT = resolve(import.meta.dirname, '..')
const OUT = join(ROOT, 'dist/functions')
const IMPORT_RUNS = 5
const SIZE_BUDGET = 1024 * 1024
const IMPORT_BUDGET_MS = 150

// ESM bundles of CommonJS dependencies need `require` (and the CJS globals) in scope.
const BANNER = [
  "import { createRequire as __createRequire } from 'node:module';",
  "import { fileURLToPath as __fileURLToPath } from 'node:url';",
  "import { dirname as __dirname_of } from 'node:path';",
  'const require = __createRequire(import.meta.url);',
  'const __filename = __fileURLToPath(import.meta.url);',
  'const __dirname = __dirname_of(__filename);',
].join('\n')

/**
 * What each function's configuration needs to load at import (placeholders: nothing is called
 * while importing; the functions reach AWS only when invoked).
 */
const IMPORT_ENV = {
  auth: {
    CREDBROKER_STORE: 'dynamodb',
    CREDBROKER_DYNAMODB_TABLE: 'credbroker-bench-state',
    CREDBROKER_KMS_KEYS: '{"user-tls":"arn:aws:kms:us-east-1:111111111111:key/x"}',
  },
  rotate: {
    CREDBROKER_BOT_CONFIG: [
      'version: v1',
      'auth_server: https://auth.example.com',
      'onboarding: { join_method: iam, token: bench }',
      'storage: { type: memory }',
      'outputs: []',
    ].join('\n'),
  },
}
// The reissue function is the rotate function's bot plus its caller allow-list.
IMPORT_ENV.reissue = {
  ...IMPORT_ENV.rotate,
  CREDBROKER_REISSUE_ALLOWED_ARNS: 'arn:aws:iam::111111111111:role/ops',
}

async function bundle(name) {
  const outdir = join(OUT, name)
  mkdirSync(outdir, { recursive: true })
  const result = await build({
    entryPoints: [join(ROOT, 'functions', name, 'handler.ts')],
    outfile: join(outdir, 'index.mjs'),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    mainFields: ['module', 'main'],
    banner: { js: BANNER },
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  })
  writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile))
  const inputs = new Map()
  for (const [path, { bytesInOutput }] of Object.entries(Object.values(result.metafile.outputs)[0].inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? 'credbroker'
    inputs.set(pkg, (inputs.get(pkg) ?? 0) + bytesInOutput)
  }
  const largest = [...inputs].sort((a, b) => b[1] - a[1]).slice(0, 5)
  return { name, file: join(outdir, 'index.mjs'), largest }
}

/** Median wall time of `import()` of the bundle in a fresh process. */
function importMs(name, file) {
  const script = `const t = performance.now(); await import(${JSON.stringify(`file://${file}`)}); console.log(performance.now() - t)`
  const runs = []
  for (let i = 0; i < IMPORT_RUNS; i++) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', ...IMPORT_ENV[name] },
      encoding: 'utf8',
    })
    runs.push(Number(out.trim()))
  }
  return runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)]
}

const names = readdirSync(join(ROOT, 'functions'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort()
const rows = []
for (const name of names) {
  const built = await bundle(name)
  rows.push({
    name,
    bytes: statSync(built.file).size,
    importMs: importMs(name, built.file),
    largest: built.largest,
  })
}

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(rows, null, 2))
} else {
  console.log(`node ${process.version}, ${IMPORT_RUNS} imports each (median)\n`)
  console.log('function   size (minified)   import    largest parts')
  for (const r of rows) {
    const parts = r.largest.map(([pkg, b]) => `${pkg} ${(b / 1024).toFixed(0)} KiB`).join(', ')
    console.log(
      `${r.name.padEnd(10)} ${`${(r.bytes / 1024).toFixed(0)} KiB`.padStart(15)}   ${`${r.importMs.toFixed(0)} ms`.padStart(6)}    ${parts}`,
    )
  }
}
const over = rows.filter((r) => r.bytes > SIZE_BUDGET || r.importMs > IMPORT_BUDGET_MS)
if (over.length > 0) {
  console.error(
    `\nover budget (${SIZE_BUDGET / 1024} KiB, ${IMPORT_BUDGET_MS} ms): ${over.map((r) => r.name).join(', ')}`,
  )
  process.exit(1)
}
