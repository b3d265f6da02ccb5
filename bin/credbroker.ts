#!/usr/bin/env -S node --import tsx
/** The `credbroker` executable: hands argv, the environment and the process's streams to lib/cli/main.ts. */
import { main } from '../lib/cli/main.ts'

const code = await main(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  // Progress lines only for a person watching a terminal; pipes and logs stay quiet.
  interactive: process.stderr.isTTY === true,
})
process.exitCode = code
