import { commandLine } from './command-line.js'
import { signToken } from './sign-token.js'

const HELP = `Mint a JWT for eventgate.

Usage: npm run token -- --sub <user> [options]

  --sub <id>             user id (required); --user <id> is the same
  --role <role>          role, repeatable: admin, service, or your own
  --permission <perm>    permission, repeatable, e.g. events:publish
  --sid <id>             session id
  --ttl <seconds>        lifetime (default 3600)
  --iss <issuer>         iss claim (default: JWT_ISSUER)
  --aud <audience>       aud claim (default: JWT_AUDIENCE)
  --private-key <file>   sign RS256/ES256 with this PEM key instead of a secret
  -h, --help             this text

Signs with JWT_SECRET, or with the development key when it is unset or empty.`

const { values, fail, integer, either } = commandLine('token', HELP, {
  sub: { type: 'string' },
  user: { type: 'string' },
  role: { type: 'string', multiple: true, default: [] },
  permission: { type: 'string', multiple: true, default: [] },
  sid: { type: 'string' },
  ttl: { type: 'string', default: '3600' },
  iss: { type: 'string' },
  aud: { type: 'string' },
  'private-key': { type: 'string' }
})

const sub = either('sub', 'user') ?? fail('--sub is required')
const ttl = integer('ttl', 1)

/** The token; only the key file can fail here: unreadable, or not a PEM private key. */
function mint (): string {
  try {
    return signToken({
      sub,
      sid: values.sid,
      roles: values.role,
      permissions: values.permission,
      iss: values.iss,
      aud: values.aud,
      ttl
    }, values['private-key'])
  } catch (err) {
    return fail(`--private-key ${values['private-key'] ?? ''}: ${(err as Error).message}`)
  }
}

process.stdout.write(`${mint()}\n`)
