/** GET /metrics: the status, and the samples by series name as Prometheus prints them (`name{label="v"}`). */
export async function scrape (url: string, bearer?: string): Promise<{ status: number, type: string | null, samples: Map<string, number> }> {
  const response = await fetch(`${url}/metrics`, { headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` } })
  const samples = new Map<string, number>()
  for (const line of (await response.text()).split('\n')) {
    const match = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line)
    if (match !== null) samples.set(match[1] as string, Number(match[2]))
  }
  return { status: response.status, type: response.headers.get('content-type'), samples }
}
