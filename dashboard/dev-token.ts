import { timeWithZone } from './time-format.js'

/** A development token from `POST /dashboard/dev-token`, and the sentence that announces it. */
export async function mintDevToken (sub: string, roles: string[]): Promise<{ token: string, note: string }> {
  const response = await fetch('/dashboard/dev-token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub, roles })
  })
  const body = await response.json() as { token?: string, expiresAt?: string, message?: string }
  if (!response.ok || body.token === undefined) throw new Error(body.message ?? `dev token refused: ${response.status}`)
  return { token: body.token, note: `development token for ${sub}, valid until ${timeWithZone(new Date(body.expiresAt ?? ''))}` }
}
