import t from 'tap'
import { startupLine } from '../../src/startup-line.js'

const url = 'http://127.0.0.1:3000'

t.test('the line says where to connect, the bus, the dashboard and the docs', async (t) => {
  t.equal(
    startupLine({ url, everyInterface: false, redis: undefined, developmentKey: false }),
    'eventgate listening at http://127.0.0.1:3000, on the in-memory bus (this instance alone: no other instance sees its events, and its history ends with the process); dashboard http://127.0.0.1:3000/dashboard, API docs http://127.0.0.1:3000/docs'
  )
})

t.test('Redis is named by its address, never its credentials', async (t) => {
  const line = startupLine({ url, everyInterface: false, redis: { kind: 'single', url: 'rediss://user:s3cret-pass@cache.internal:6380/2' }, developmentKey: false })
  t.match(line, ', on Redis at cache.internal:6380 (TLS);')
  t.notMatch(line, /s3cret|user/)
  t.match(startupLine({ url, everyInterface: false, redis: { kind: 'single', url: 'redis://10.0.0.7:6379' }, developmentKey: false }), ', on Redis at 10.0.0.7:6379;')
})

t.test('a Redis Cluster is named with its seed nodes, never its credentials', async (t) => {
  const line = startupLine({
    url,
    everyInterface: false,
    redis: { kind: 'cluster', nodes: [{ host: 'r1', port: 7000 }, { host: '::1', port: 7001 }], username: 'gw', password: 's3cret-pass', tls: true },
    developmentKey: false
  })
  t.match(line, ', on Redis Cluster (seed nodes r1:7000, [::1]:7001);')
  t.notMatch(line, /s3cret/)
})

t.test('on every interface the line says so, and gives the local URL', async (t) => {
  t.match(startupLine({ url: 'http://localhost:3000', everyInterface: true, redis: undefined, developmentKey: false }), /^eventgate listening on every interface \(http:\/\/localhost:3000 from this machine\), /)
})

t.test('the development key is called out', async (t) => {
  const line = startupLine({ url, everyInterface: false, redis: undefined, developmentKey: true })
  t.match(line, /WARNING: no JWT_SECRET or JWT_PUBLIC_KEY, tokens are checked against the public development key: anyone can sign one/)
  t.notMatch(startupLine({ url, everyInterface: false, redis: undefined, developmentKey: false }), /WARNING/)
})
