import t from 'tap'
import { listenFailure } from '../../src/listen-failure.js'

const target = { host: '10.9.9.9', port: 80 }
const failed = (code: string): Error => Object.assign(new Error(`listen ${code}`), { code })

t.test('each listen mistake names the variable to change, in one line', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['EADDRINUSE', /^port 80 on 10\.9\.9\.9 is already in use: set PORT /],
    ['EACCES', /^no permission to listen on port 80: set PORT /],
    ['EADDRNOTAVAIL', /^HOST=10\.9\.9\.9 is not an address of this machine: set HOST /],
    ['ENOTFOUND', /^HOST=10\.9\.9\.9 does not resolve to an address: set HOST /],
    ['EAI_AGAIN', /^HOST=10\.9\.9\.9 could not be resolved .*: set HOST /]
  ]
  for (const [code, line] of cases) {
    const text = listenFailure(failed(code), target)
    t.match(text, line, code)
    t.notMatch(text, /\n/, `${code}: one line`)
  }
})

t.test('anything else is no listen mistake', async (t) => {
  for (const err of [failed('EMFILE'), failed('toString'), new Error('no code'), 'EADDRINUSE', null, undefined, { code: 98 }]) {
    t.equal(listenFailure(err, target), undefined, String(err))
  }
})
