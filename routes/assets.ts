import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Bundle } from './bundles.js'

/** A file as served: its bytes, content type and a strong ETag for revalidation. */
export interface Asset {
  body: Buffer
  type: string
  etag: string
}

export const SCRIPT_TYPE = 'text/javascript; charset=utf-8'

/** Compiled, this module runs from `dist/routes/`, beside the files `npm run build` wrote into `dist/`. */
export const COMPILED = import.meta.url.endsWith('.js')

export function asset (body: Uint8Array | string, type: string): Asset {
  const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  return { body: bytes, type, etag: `"${createHash('sha256').update(bytes).digest('base64url')}"` }
}

export function readAsset (file: URL, type: string): Asset {
  return asset(readFileSync(fileURLToPath(file)), type)
}

/**
 * A browser script. Compiled, `npm run build` made it (at `prebuilt`) and it is read now, so a
 * running gateway neither bundles nor spawns esbuild, and a build without the script fails the
 * start instead of the first request. From the sources, it is bundled at its first request
 * (esbuild, a development dependency, loaded only then) and kept in memory; concurrent first
 * requests share one bundling, and a failed one is retried by the next request.
 */
export function script (name: Bundle, prebuilt: URL): () => Promise<Asset> {
  if (COMPILED) {
    const read = Promise.resolve(readAsset(prebuilt, SCRIPT_TYPE))
    return async () => await read
  }
  let bundled: Promise<Asset> | undefined
  return async () => {
    bundled ??= import('./bundles.js')
      .then(async ({ bundle }) => asset(await bundle(name), SCRIPT_TYPE))
      .catch((err: unknown) => {
        bundled = undefined
        throw err
      })
    return await bundled
  }
}

/** Revalidated on every use (`no-cache` + ETag): a restarted gateway may serve new files at the same URL. */
export async function sendAsset (request: FastifyRequest, reply: FastifyReply, file: Asset): Promise<FastifyReply> {
  void reply.headers({
    'cache-control': 'no-cache',
    etag: file.etag,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer'
  })
  if (request.headers['if-none-match'] === file.etag) return await reply.code(304).send()
  return await reply.type(file.type).send(file.body)
}
