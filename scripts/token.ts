import { parseArgs } from 'node:util'
import { signToken } from './sign-token.js'

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

process.stdout.write(`${signToken({
  sub: values.sub,
  sid: values.sid,
  roles: values.role,
  permissions: values.permission,
  iss: values.iss,
  aud: values.aud,
  ttl
}, values['private-key'])}\n`)
