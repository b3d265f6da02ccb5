/**
 * A test peer's log (sshd, PostgreSQL): collected as chunks arrive, with waiters woken on each
 * chunk (no polling) until a pattern appears or their deadline passes.
 */
export class PeerLog {
  text = ''
  readonly #name: string
  readonly #waiters = new Set<() => void>()

  constructor(name: string) {
    this.#name = name
  }

  append(chunk: string): void {
    this.text += chunk
    for (const wake of this.#waiters) wake()
  }

  /** Resolves with the log from offset `from` once it matches `pattern`. */
  waitFor(pattern: RegExp, from: number, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const part = this.text.slice(from)
        if (!pattern.test(part)) return
        done()
        resolve(part)
      }
      const timer = setTimeout(() => {
        done()
        reject(
          new Error(
            `${this.#name} did not log ${pattern} within ${timeoutMs} ms. Log:\n${this.text.slice(from)}`,
          ),
        )
      }, timeoutMs)
      const done = () => {
        clearTimeout(timer)
        this.#waiters.delete(check)
      }
      this.#waiters.add(check)
      check()
    })
  }
}
