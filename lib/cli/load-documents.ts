/** Reads resource documents from a YAML/JSON file or from every such file in a directory. */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { extname, join } from 'node:path'
import { BadRequestError, InvalidResourceError } from '../errors.ts'
import { parseResources } from '../resources/parse.ts'
import type { Resource } from '../resources/types.ts'

const EXTENSIONS = new Set(['.yaml', '.yml', '.json'])

/** Documents of `path` (a file, or a directory read in file-name order). */
export function loadDocuments(path: string): Resource[] {
  let stat: ReturnType<typeof statSync>
  try {
    stat = statSync(path)
  } catch {
    throw new BadRequestError(`cannot read ${path}: no such file or directory`)
  }
  const files = stat.isDirectory()
    ? readdirSync(path)
        .filter((f) => EXTENSIONS.has(extname(f)))
        .sort()
        .map((f) => join(path, f))
    : [path]
  return files.flatMap((file) => {
    const format = extname(file) === '.json' ? 'json' : 'yaml'
    try {
      return parseResources(readFileSync(file, 'utf8'), { format })
    } catch (err) {
      if (err instanceof InvalidResourceError) {
        throw new InvalidResourceError(err.field, `${err.problem} (in ${file})`, { cause: err })
      }
      throw err
    }
  })
}
