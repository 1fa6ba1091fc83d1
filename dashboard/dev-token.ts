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

export interface DevTokenForm {
  form: HTMLFormElement
  sub: HTMLInputElement
  admin: HTMLInputElement
  /** Receives the token and picks the stream its role opens. */
  use: (token: string, stream: 'admin' | 'events') => void
  say: (text: string, error?: boolean) => void
}

/** The *Mint dev token* form, shown only when the gateway runs with the public development key. */
export function bindDevTokenForm ({ form, sub, admin, use, say }: DevTokenForm): void {
  form.hidden = document.body.dataset.development === undefined
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const roles = admin.checked ? ['admin'] : []
    mintDevToken(sub.value.trim(), roles).then(({ token, note }) => {
      use(token, roles.length > 0 ? 'admin' : 'events')
      say(note)
    }).catch((err: unknown) => { say((err as Error).message, true) })
  })
}
