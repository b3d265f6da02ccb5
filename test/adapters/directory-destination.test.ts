import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import {
  DirectoryDestination,
  type DirectoryDestinationOptions,
} from '../../lib/adapters/directory/destination.ts'
import { ManualClock, systemClock } from '../../lib/clock.ts'
import { InvalidConfigError, ThrottledError } from '../../lib/errors.ts'
import { runDestinationConformance } from '../conformance/destination.suite.ts'

const REPO_ROOT = join(import.meta.dirname, '../..')
const clock = new ManualClock()

function tempRoot(): string {
  return mkdtempSync(join(realpathSync(tmpdir()), 'credbroker-dest-'))
}

runDestinationConformance('directory', async () => {
  const root = tempRoot()
  const path = join(root, 'out')
  const open = () => new DirectoryDestination({ path, clock })
  return {
    destination: open(),
    sibling: open,
    reopen: open,
    cleanup: async () => rmSync(root, { recursive: true, force: true }),
  }
})

const mode = (p: string) => statSync(p).mode & 0o777
const versions = (p: string) => readdirSync(p).filter((n) => n.startsWith('.v-'))
const set = (entries: Record<string, string>) => new Map(Object.entries(entries))
const asText = (m: Map<string, Uint8Array>) =>
  Object.fromEntries([...m].map(([k, v]) => [k, new TextDecoder().decode(v)]))

/** Asserts an InvalidConfigError on field `path` whose message matches `pattern`. */
const refused = (pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof InvalidConfigError, String(err))
  assert.equal(err.field, 'path')
  assert.match(err.message, pattern)
  return true
}

describe('Class: DirectoryDestination', () => {
  let root: string
  let path: string
  const make = (options: Partial<DirectoryDestinationOptions> = {}) =>
    new DirectoryDestination({ path, clock, ...options })

  beforeEach(() => {
    root = tempRoot()
    path = join(root, 'out')
  })
  afterEach(() => rmSync(root, { recursive: true, force: true }))

  describe('layout and modes', () => {
    it('creates missing directories 0700, version directories 0700 and files 0600, whatever the umask', async () => {
      path = join(root, 'a', 'b', 'out')
      const previous = process.umask(0)
      try {
        await make().write(set({ key: 'k', tlscert: 'c' }))
      } finally {
        process.umask(previous)
      }
      for (const dir of [join(root, 'a'), join(root, 'a', 'b'), path]) assert.equal(mode(dir), 0o700, dir)
      const [version] = versions(path)
      assert.equal(mode(join(path, version!)), 0o700)
      for (const name of ['key', 'tlscert']) assert.equal(mode(join(path, version!, name)), 0o600)
    })

    it('an existing directory keeps its mode', async () => {
      mkdirSync(path, { mode: 0o750 })
      await make().write(set({ key: 'k' }))
      assert.equal(mode(path), 0o750)
    })

    it('swaps .data; after two writes only the current version directory remains', async () => {
      const d = make()
      await d.write(set({ key: 'one', tlscert: 'one' }))
      const [first] = versions(path)
      await d.write(set({ key: 'two', ca: 'two' }))
      assert.deepEqual(versions(path), [readlinkSync(join(path, '.data'))])
      assert.notEqual(versions(path)[0], first)
      assert.match(versions(path)[0]!, /^\.v-20260101T000000000Z-[0-9a-f]{16}$/)
      assert.equal(d.describe(), `directory ${path}`)
    })

    it('visible names are links into .data that follow the set', async () => {
      const d = make()
      await d.write(set({ key: 'one', tlscert: 'one' }))
      await d.write(set({ key: 'two', ca: 'two' }))
      assert.deepEqual(
        readdirSync(path)
          .filter((n) => !n.startsWith('.'))
          .sort(),
        ['ca', 'key'],
      )
      assert.equal(readlinkSync(join(path, 'key')), '.data/key')
      assert.equal(readFileSync(join(path, 'key'), 'utf8'), 'two')
    })

    it('a leftover .data.tmp and partial versions from a crash are removed by the next write', async () => {
      mkdirSync(join(path, '.v-20250101T000000000Z-0123456789abcdef'), { recursive: true })
      symlinkSync('.v-20250101T000000000Z-0123456789abcdef', join(path, '.data.tmp'))
      await make().write(set({ key: 'k' }))
      assert.equal(versions(path).length, 1)
      assert.ok(!readdirSync(path).includes('.data.tmp'))
    })
  })

  describe('symbolic links and planted files', () => {
    it('a destination path that is a link is refused by secure and try-secure, followed by insecure', async () => {
      const real = join(root, 'real')
      mkdirSync(real)
      symlinkSync(real, path)
      for (const symlinks of ['secure', 'try-secure'] as const) {
        await assert.rejects(make({ symlinks }).write(set({ key: 'k' })), refused(/is a symbolic link/))
        await assert.rejects(make({ symlinks }).readAll(), refused(/is a symbolic link/))
      }
      assert.deepEqual(readdirSync(real), [])
      await make({ symlinks: 'insecure' }).write(set({ key: 'k' }))
      assert.equal(readFileSync(join(real, '.data', 'key'), 'utf8'), 'k')
    })

    it('secure also refuses a path below a linked directory; try-secure allows it', async () => {
      mkdirSync(join(root, 'real'))
      symlinkSync(join(root, 'real'), join(root, 'via'))
      path = join(root, 'via', 'out')
      await assert.rejects(make({ symlinks: 'secure' }).write(set({ key: 'k' })), refused(/resolves through/))
      await make().write(set({ key: 'k' }))
    })

    it('a path that is a regular file is refused', async () => {
      writeFileSync(path, 'x')
      await assert.rejects(make().write(set({ key: 'k' })), refused(/is not a directory/))
    })

    it('a file planted at a visible name is refused, never overwritten, and the old set stays', async () => {
      const d = make()
      await d.write(set({ key: 'old' }))
      writeFileSync(join(path, 'tlscert'), 'planted')
      await assert.rejects(d.write(set({ key: 'new', tlscert: 'new' })), refused(/tlscert is a regular file/))
      assert.equal(readFileSync(join(path, 'tlscert'), 'utf8'), 'planted')
      assert.deepEqual(asText(await d.readAll()), { key: 'old' })
      assert.equal(versions(path).length, 1)
    })

    it('a foreign link at a visible name is refused and not followed', async () => {
      const outside = join(root, 'outside')
      writeFileSync(outside, 'precious')
      const d = make()
      await d.write(set({ key: 'old' }))
      symlinkSync(outside, join(path, 'tlscert'))
      await assert.rejects(d.write(set({ tlscert: 'new' })), refused(/tlscert is a symbolic link/))
      assert.equal(readFileSync(outside, 'utf8'), 'precious')
    })

    it('a planted .data is refused by reads and writes', async () => {
      mkdirSync(path)
      mkdirSync(join(root, 'elsewhere'))
      writeFileSync(join(root, 'elsewhere', 'key'), 'attacker')
      symlinkSync('../elsewhere', join(path, '.data'))
      const d = make()
      await assert.rejects(d.read('key'), refused(/points to \.\.\/elsewhere/))
      await assert.rejects(d.write(set({ key: 'k' })), refused(/points to/))
    })

    it('a version directory replaced by a link is refused', async () => {
      const d = make()
      await d.write(set({ key: 'k' }))
      const [version] = versions(path)
      renameSync(join(path, version!), join(root, 'moved'))
      symlinkSync(join(root, 'moved'), join(path, version!))
      await assert.rejects(d.readAll(), refused(/symbolic link it did not create/))
    })
  })

  describe('failures midway', () => {
    for (const [label, hooks] of [
      ['before the swap', { beforeSwap: () => Promise.reject(new Error('injected')) }],
      ['after the first artifact', { afterArtifact: () => Promise.reject(new Error('injected')) }],
    ] as const) {
      it(`a failure ${label} leaves the previous set readable and no partial version`, async () => {
        await make().write(set({ key: 'old', tlscert: 'old' }))
        const before = versions(path)
        await assert.rejects(make({ hooks }).write(set({ key: 'new', ca: 'new' })), /injected/)
        assert.deepEqual(asText(await make().readAll()), { key: 'old', tlscert: 'old' })
        assert.deepEqual(versions(path), before)
        assert.equal(readFileSync(join(path, 'tlscert'), 'utf8'), 'old')
      })
    }
  })

  describe('locking', () => {
    const plantLock = (owner: object) => {
      mkdirSync(path, { recursive: true })
      writeFileSync(join(path, '.lock'), JSON.stringify({ host: hostname(), token: 'other', ...owner }))
    }

    it('a live lock of another writer fails with ERR_THROTTLED once the wait is over', async () => {
      plantLock({ pid: process.pid, acquiredAt: clock.now().getTime() })
      const d = make({ lock: { timeoutMs: 0 } })
      await assert.rejects(d.write(set({ key: 'k' })), (err) => err instanceof ThrottledError)
      assert.ok(readdirSync(path).includes('.lock'), 'a lock that is not ours stays')
      rmSync(join(path, '.lock'))
      await d.write(set({ key: 'k' }))
    })

    it('a lock left by a process that is gone is broken', async () => {
      const dead = spawnSync(process.execPath, ['-e', '']).pid
      plantLock({ pid: dead, acquiredAt: clock.now().getTime() })
      await make({ lock: { timeoutMs: 0 } }).write(set({ key: 'k' }))
      assert.ok(!readdirSync(path).includes('.lock'))
    })

    it('a lock older than staleAfterMs is broken', async () => {
      plantLock({ pid: process.pid, acquiredAt: clock.now().getTime() - 61_000 })
      await make({ lock: { timeoutMs: 0 } }).write(set({ key: 'k' }))
    })

    it('a link planted at .lock is refused and not followed', async () => {
      mkdirSync(path)
      symlinkSync(join(root, 'target'), join(path, '.lock'))
      await assert.rejects(make({ lock: { timeoutMs: 0 } }).write(set({ key: 'k' })), refused(/\.lock/))
      assert.throws(() => lstatSync(join(root, 'target')), /ENOENT/)
    })

    it('writers in separate processes never leave a mixed set', async () => {
      const script = `
        import { DirectoryDestination } from ${JSON.stringify(join(REPO_ROOT, 'lib/adapters/directory/destination.ts'))}
        const d = new DirectoryDestination({ path: process.argv[1] })
        const names = ['key', 'tlscert', 'key-cert.pub', 'known_hosts']
        for (let i = 0; i < 15; i++) {
          const m = process.argv[2] + '-' + i
          await d.write(new Map(names.slice(0, 2 + (i % 3)).map((n) => [n, m])))
        }`
      const child = (id: string) =>
        new Promise<number | null>((done) => {
          const p = spawn(
            process.execPath,
            ['--import', 'tsx', '--input-type=module', '-e', script, path, id],
            {
              cwd: REPO_ROOT,
              stdio: ['ignore', 'ignore', 'inherit'],
            },
          )
          p.on('exit', done)
        })
      // The writers run on the system clock, and a lock's age is read against the clock of the
      // process inspecting it: this reader must share their clock, or its lock looks abandoned.
      const d = make({ clock: systemClock })
      const children = Promise.all(['a', 'b', 'c'].map(child))
      let done = false
      void children.then(() => (done = true))
      try {
        while (!done) {
          const snapshot = Object.values(asText(await d.readAll()))
          assert.ok(new Set(snapshot).size <= 1, `mixed set: ${snapshot.join(', ')}`)
          await new Promise((next) => setImmediate(next))
        }
      } finally {
        await children // never leave writers running into the cleanup
      }
      assert.deepEqual(await children, [0, 0, 0])
      assert.equal(new Set(Object.values(asText(await d.readAll()))).size, 1)
      assert.equal(versions(path).length, 1)
    })
  })

  it('constructor: a relative path or an unknown policy is a TypeError', () => {
    assert.throws(() => new DirectoryDestination({ path: 'rel' }), TypeError)
    assert.throws(() => new DirectoryDestination({ path: '/x', symlinks: 'never' as 'secure' }), TypeError)
  })
})
