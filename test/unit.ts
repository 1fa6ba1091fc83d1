import { readdirSync } from 'node:fs'

/**
 * The unit tier in one process: each unit file alone costs more to start (tap's loader, tsx)
 * than its tests take to run, so `npm run test:unit` imports them all here, in path order.
 * `npm test` still runs each file in a process of its own.
 */
const root = new URL('./unit/', import.meta.url)
const files = readdirSync(root, { recursive: true }).map(String).filter((file) => file.endsWith('.test.ts')).sort()
for (const file of files) await import(new URL(file, root).href)
