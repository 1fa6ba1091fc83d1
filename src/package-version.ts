import { readFileSync } from 'node:fs'

/**
 * The version in the project's package.json: the nearest one above this file, which sits in
 * `src/` under tsx and in `dist/src/` once built.
 */
export function packageVersion (): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    try {
      return (JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { version: string }).version
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dir.pathname === '/') throw err
    }
  }
}
