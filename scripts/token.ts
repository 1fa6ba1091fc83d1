import { createPrivateKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createSigner } from 'fast-jwt'
import { DEV_JWT_SECRET } from '../src/config.js'

const HELP = `Mint a JWT for eventgate.

Usage: npm run token -- --sub <user> [options]

  --sub <id>             user id (required)
  --role <role>          role, repeatable: admin, service, or your own
  --permission <perm>    permission, repeatable, e.g. events:publish
  --sid <id>             session id
  --ttl <seconds>        lifetime (default 3600)
  --iss <issuer>         iss claim (default: JWT_ISSUER)
  --aud <audience>       aud claim (default: JWT_AUDIENCE)
  --private-key <file>   sign RS256/ES256 with this PEM key instead of a secret
  -h, --help             this text

Signs with JWT_SECRET, or with the development key when it is unset.`

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    role: { type: 'string', multiple: true, default: [] },
    permission: { type: 'string', multiple: true, default: [] },
    sid: { type: 'string' },
    ttl: { type: 'string', default: '3600' },
    iss: { type: 'string', default: process.env.JWT_ISSUER },
    aud: { type: 'string', default: process.env.JWT_AUDIENCE },
    'private-key': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false }
  }
})

if (values.help || values.sub === undefined) {
  process.stdout.write(`${HELP}\n`)
  process.exit(values.help ? 0 : 1)
}
const ttl = Number(values.ttl)
if (!Number.isInteger(ttl) || ttl <= 0) {
  process.stderr.write('--ttl must be a positive number of seconds\n')
  process.exit(1)
}

function signingKey (): { key: string, algorithm: 'HS256' | 'RS256' | 'ES256' } {
  const file = values['private-key']
  if (file === undefined) return { key: process.env.JWT_SECRET ?? DEV_JWT_SECRET, algorithm: 'HS256' }
  const key = readFileSync(file, 'utf8')
  return { key, algorithm: createPrivateKey(key).asymmetricKeyType === 'rsa' ? 'RS256' : 'ES256' }
}

const now = Math.floor(Date.now() / 1000)
const claims = {
  sub: values.sub,
  ...(values.sid === undefined ? {} : { sid: values.sid }),
  ...(values.role.length === 0 ? {} : { roles: values.role }),
  ...(values.permission.length === 0 ? {} : { permissions: values.permission }),
  ...(values.iss === undefined ? {} : { iss: values.iss }),
  ...(values.aud === undefined ? {} : { aud: values.aud }),
  iat: now,
  exp: now + ttl
}
process.stdout.write(`${createSigner(signingKey())(claims)}\n`)
