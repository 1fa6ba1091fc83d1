import t from 'tap'
import { DEVELOPMENT_ORIGINS, originEntryError, originMatcher } from '../../src/origins.js'

/** Chrome extension ids: 32 letters a to p. */
const EXTENSION = 'abcdefghijklmnopabcdefghijklmnop'
const OTHER_EXTENSION = 'ponmlkjihgfedcbaponmlkjihgfedcba'

// [allowed entries, origin, allowed?]
const cases: Array<[string[], string, boolean]> = [
  [['https://app.example.com'], 'https://app.example.com', true],
  [['https://app.example.com'], 'https://app.example.com:443', false],
  [['https://app.example.com'], 'http://app.example.com', false],
  [['https://app.example.com'], 'https://evil.app.example.com', false],
  [['https://app.example.com'], 'https://app.example.com.evil.io', false],
  [['https://app.example.com'], 'https://appxexample.com', false],
  [['https://app.example.com:8443'], 'https://app.example.com:8443', true],
  [['https://app.example.com:8443'], 'https://app.example.com', false],
  [['https://*.example.com'], 'https://a.example.com', true],
  [['https://*.example.com'], 'https://a.b.example.com', true],
  [['https://*.example.com'], 'https://example.com', false],
  [['https://*.example.com'], 'https://example.com.evil.io', false],
  [['https://*.example.com'], 'https://a.example.com.evil.io', false],
  [['https://*.example.com'], 'https://evilexample.com', false],
  [['https://*.example.com'], 'https://a.evil-example.com', false],
  [['https://*.example.com'], 'http://a.example.com', false],
  [['https://*.example.com'], 'https://a.example.com:8443', false],
  [['http://localhost:*'], 'http://localhost:5173', true],
  [['http://localhost:*'], 'http://localhost', true],
  [['http://localhost:*'], 'https://localhost:5173', false],
  [['http://localhost:*'], 'http://localhost.evil.io:5173', false],
  [['http://localhost:*'], 'http://localhost:abc', false],
  [['*'], 'https://anything.example', true],
  [['https://app.example.com', '*'], 'null', true],
  [['HTTPS://App.Example.COM'], 'https://app.example.com', true],
  [['https://app.example.com'], 'HTTPS://APP.EXAMPLE.COM', true],
  [['https://*.Example.com'], 'https://A.EXAMPLE.com', true],
  [['https://a.example.com', 'https://b.example.com'], 'https://b.example.com', true],
  [['https://a.example.com', 'https://b.example.com'], 'https://c.example.com', false],
  [[], 'https://app.example.com', false],
  [DEVELOPMENT_ORIGINS, 'http://127.0.0.1:3000', true],
  [DEVELOPMENT_ORIGINS, 'http://localhost:3000', true],
  [DEVELOPMENT_ORIGINS, 'https://example.com', false],
  [[`chrome-extension://${EXTENSION}`], `chrome-extension://${EXTENSION}`, true],
  [[`chrome-extension://${EXTENSION}`], `chrome-extension://${OTHER_EXTENSION}`, false],
  [[`chrome-extension://${EXTENSION}`], `chrome-extension://${EXTENSION}.evil.io`, false],
  [[`chrome-extension://${EXTENSION}`], `chrome-extension://${EXTENSION}:443`, false],
  [[`chrome-extension://${EXTENSION}`], `https://${EXTENSION}`, false],
  [[`chrome-extension://${EXTENSION}`], `moz-extension://${EXTENSION}`, false],
  [[`chrome-extension://${EXTENSION.toUpperCase()}`], `chrome-extension://${EXTENSION}`, true],
  [['chrome-extension://*'], `chrome-extension://${EXTENSION}`, true],
  [['chrome-extension://*'], `chrome-extension://${OTHER_EXTENSION}`, true],
  [['chrome-extension://*'], 'chrome-extension://short', false],
  [['chrome-extension://*'], `chrome-extension://${EXTENSION}x`, false],
  [['chrome-extension://*'], 'chrome-extension://qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq', false],
  [['chrome-extension://*'], `chrome-extension://${EXTENSION}.example.com`, false],
  [['chrome-extension://*'], `https://${EXTENSION}`, false],
  [['chrome-extension://*'], 'https://app.example.com', false],
  [['https://*.example.com'], `chrome-extension://${EXTENSION}`, false]
]

t.test('originMatcher', async (t) => {
  for (const [entries, origin, expected] of cases) {
    t.equal(originMatcher(entries)(origin), expected, `${JSON.stringify(entries)} ${expected ? 'allows' : 'refuses'} ${origin}`)
  }
})

t.test('originEntryError accepts valid entries', async (t) => {
  for (const entry of ['*', 'https://app.example.com', 'http://localhost:3000', 'http://localhost:*', 'https://*.example.com', 'https://*.example.com:*', 'HTTPS://APP.EXAMPLE.COM', 'http://127.0.0.1:8080',
    `chrome-extension://${EXTENSION}`, 'chrome-extension://*', `CHROME-EXTENSION://${EXTENSION.toUpperCase()}`]) {
    t.equal(originEntryError(entry), undefined, entry)
  }
})

t.test('originEntryError refuses bad entries, quoting them', async (t) => {
  const bad = [
    '', 'example.com', '*.example.com', 'ftp://example.com', 'https://', 'https://example.com/',
    'https://example.com/path', 'https://*example.com', 'https://a.*.example.com', 'https://*.*.example.com',
    'https://ex ample.com', 'https://example.com:123456', 'https://example.com:', 'https://user@example.com',
    'https://example..com', ' https://example.com', 'https://example.com?x=1', '**',
    'chrome-extension://', 'chrome-extension://short', `chrome-extension://${EXTENSION}x`,
    'chrome-extension://qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq', 'chrome-extension://*.example.com',
    `chrome-extension://${EXTENSION}:443`, `chrome-extension://${EXTENSION}/`, `moz-extension://${EXTENSION}`
  ]
  for (const entry of bad) {
    t.match(originEntryError(entry), `"${entry}" is not an origin`, JSON.stringify(entry))
    t.throws(() => originMatcher([entry]), `originMatcher refuses ${JSON.stringify(entry)} too`)
  }
})

t.test('originEntryError refuses a port beyond 65535', async (t) => {
  t.equal(originEntryError('http://localhost:65535'), undefined)
  t.match(originEntryError('http://localhost:70000'), /is not an origin/)
})
