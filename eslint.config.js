import globals from 'globals'
import neostandard from 'neostandard'

/**
 * The layering the code promises, checked on every import: the core (src/) never reaches the
 * framework or the folders that wire it; the SDK and the wire contract run in a browser; tools
 * never lean on the test suite. Patterns match the specifier as written, so `(\.\./)+` stands
 * for "from any depth below the repository root".
 */
const CORE = [
  {
    regex: '^(fastify|fastify-plugin)(/|$)|^@fastify/',
    message: 'src/ is the framework-free core: Fastify stays in plugins/ and routes/.'
  },
  {
    regex: '^(\\.\\./)+(plugins|routes)(/|$)|^(\\.\\./)+(app|server)\\.js$',
    message: 'src/ is imported by plugins/, routes/ and the app, never the other way round.'
  }
]

/**
 * In src/client and src/wire this replaces CORE (flat config does not merge one rule's options)
 * and forbids all it does: a bare specifier (node:*, a built-in, a package) and a path out of
 * both folders both fail. It is what lets packages/client publish them as @eventgate/client with
 * no dependencies, and lets a browser load its modules unbundled.
 */
const BROWSER_SAFE = [
  {
    regex: '^(?!\\./|\\.\\./(client|wire)/)',
    message: 'src/client and src/wire run in browsers: they import only each other (no node:*, Node built-ins, packages or other src/ modules).'
  }
]

const TOOLS = [
  {
    regex: '^(\\.\\./)+test/',
    message: 'scripts/, bench/ and harness/ may not import from test/: what they share with the tests lives in harness/.'
  }
]

/** Node's own globals: the dashboard is served to browsers, where none of them exist. */
const NODE_ONLY_GLOBALS = Object.keys(globals.node).filter((name) => !(name in globals.browser))

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns: patterns.map((p) => ({ ...p, caseSensitive: true })) }] })

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'packages/*/dist/**', 'dist.next/**', 'dist.old/**', 'node_modules/**', 'bench/results/**', 'scripts/abuse/results/**', '.tap/**', 'coverage/**', 'test/artifacts/**']
  }),
  {
    name: 'eventgate/house',
    rules: {
      // `void promise()` as a statement marks a promise deliberately left running, its failure
      // handled inside; that is the convention typescript-eslint's floating-promise check reads.
      'no-void': ['error', { allowAsStatement: true }],
      // `let x: T | undefined`, read through `x?.` by a callback before it is assigned: a const
      // declared at the assignment would throw there instead of reading undefined.
      'prefer-const': ['error', { destructuring: 'all', ignoreReadBeforeAssign: true }]
    }
  },
  {
    name: 'eventgate/typescript',
    files: ['**/*.ts'],
    rules: {
      // A TypeBox schema or a const table and the type derived from it share one name on purpose;
      // tsc already rejects real redeclarations.
      '@typescript-eslint/no-redeclare': 'off'
    }
  },
  {
    name: 'eventgate/tests',
    files: ['test/**'],
    rules: {
      // Tests poll `while (running)` with `await` in the body until another task flips the flag;
      // the rule reads only the loop and reports every one of them.
      'no-unmodified-loop-condition': 'off'
    }
  },
  { name: 'eventgate/boundaries/core', files: ['src/**'], rules: restrict(CORE) },
  { name: 'eventgate/boundaries/browser-safe', files: ['src/client/**', 'src/wire/**'], rules: restrict(BROWSER_SAFE) },
  { name: 'eventgate/boundaries/tools', files: ['scripts/**', 'bench/**', 'harness/**'], rules: restrict(TOOLS) },
  {
    name: 'eventgate/dashboard',
    files: ['dashboard/**'],
    languageOptions: {
      globals: { ...Object.fromEntries(NODE_ONLY_GLOBALS.map((name) => [name, 'off'])), ...globals.browser }
    },
    rules: {
      // no-undef is off for TypeScript (tsc checks names), and @types/node declares these for the
      // dashboard's tsconfig too: name them here so a Node global in browser code fails the lint.
      'no-restricted-globals': ['error', ...NODE_ONLY_GLOBALS.map((name) => ({ name, message: 'dashboard/ runs in a browser.' }))]
    }
  }
]
