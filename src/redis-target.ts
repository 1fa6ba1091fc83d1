/**
 * Where the gateway keeps its shared state: one Redis (`REDIS_URL`, credentials and TLS in the
 * URL) or a Redis Cluster (`REDIS_CLUSTER_NODES`, credentials and TLS in variables of their own,
 * since a seed list has no place for them). Node-free, so config and connection share it.
 */
export type RedisTarget =
  | { kind: 'single', url: string }
  | { kind: 'cluster', nodes: ClusterNode[], username?: string, password?: string, tls: boolean }

export interface ClusterNode { host: string, port: number }

/** `host:port`, the host a name, an IPv4 address or a bracketed IPv6 one. */
const NODE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/

/** The seeds of a comma list, or why an entry is not `host:port`. */
export function parseClusterNodes (list: string): ClusterNode[] | string {
  const nodes: ClusterNode[] = []
  for (const entry of list.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const match = NODE.exec(entry)
    const port = Number(match?.[2])
    if (match === null || port < 1 || port > 65535) return `"${entry}" is not host:port (port 1 to 65535)`
    nodes.push({ host: (match[1] as string).replace(/^\[|\]$/g, ''), port })
  }
  return nodes.length === 0 ? 'lists no node' : nodes
}
