/** The value below which `q` of the sorted values fall (nearest rank). */
export function quantile (sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank] as number
}

export interface Summary {
  median: number
  min: number
  max: number
  n: number
}

export function summarize (values: readonly number[]): Summary {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 }
  const mid = finite.length >> 1
  const median = finite.length % 2 === 1 ? finite[mid] as number : ((finite[mid - 1] as number) + (finite[mid] as number)) / 2
  return { median, min: finite[0] as number, max: finite.at(-1) as number, n: finite.length }
}
