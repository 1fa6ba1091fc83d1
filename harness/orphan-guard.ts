/**
 * Preloaded into the gateway processes the tests start. Their stdin is a pipe from the test
 * process, and it ends when that process dies, even by SIGKILL (a test file past tap's
 * timeout), where no teardown runs: the gateway then goes too, rather than serving on, an
 * orphan holding its port and its Redis connections.
 */
process.stdin.on('end', () => { process.kill(process.pid, 'SIGKILL') })
process.stdin.on('error', () => {})
process.stdin.resume()
// The guard must not be what keeps a gateway alive: a shutdown still ends the process.
process.stdin.unref()
