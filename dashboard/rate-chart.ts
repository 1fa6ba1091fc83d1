import UPlot from 'uplot'
import { RateSeries, TOTAL, WINDOW_SECONDS } from './rate-series.js'
import { clock, hourMinute } from './time-format.js'

const HEIGHT = 160
/** Total first, in the page's text colour; namespaces in colours that do not read as severities. */
const COLOURS = ['#d8dee6', '#4fa3ff', '#a371f7', '#39c5cf', '#db61a2', '#8ddb8c', '#e3b341', '#8a96a3']

/**
 * The event-rate chart: a uPlot line per series over the last WINDOW_SECONDS, redrawn once a
 * second. Each series' sum over the window is published on the container as
 * `data-series-totals` (JSON), which tests and other tools can read without reaching into uPlot.
 */
export class RateChart {
  readonly series = new RateSeries()
  private plot: UPlot | undefined
  private labels = ''

  constructor (private readonly container: HTMLElement) {
    container.dataset.windowSeconds = String(WINDOW_SECONDS)
    new ResizeObserver(() => { this.plot?.setSize({ width: this.width(), height: HEIGHT }) }).observe(container)
  }

  draw (nowMs: number = Date.now()): void {
    const { labels, x, rows } = this.series.columns(nowMs)
    const totals = Object.fromEntries(labels.map((label, i) => [label, (rows[i] ?? []).reduce((a, b) => a + b, 0)]))
    this.container.dataset.seriesTotals = JSON.stringify(totals)
    const data: UPlot.AlignedData = [x, ...rows]
    // A new namespace is a new line: uPlot's series are fixed at creation, so the plot is made again.
    if (this.plot === undefined || labels.join('\n') !== this.labels) {
      this.plot?.destroy()
      this.labels = labels.join('\n')
      this.plot = new UPlot(this.options(labels), data, this.container)
    } else {
      this.plot.setData(data)
    }
  }

  reset (): void {
    this.series.reset()
    this.draw()
  }

  private width (): number {
    return Math.max(200, this.container.clientWidth)
  }

  private options (labels: string[]): UPlot.Options {
    return {
      width: this.width(),
      height: HEIGHT,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [
        { stroke: '#8a96a3', grid: { stroke: '#2a333d' }, ticks: { stroke: '#2a333d' }, values: (_u, splits) => splits.map((s) => hourMinute(new Date(s * 1000))) },
        { stroke: '#8a96a3', grid: { stroke: '#2a333d' }, ticks: { stroke: '#2a333d' }, label: 'events/s', size: 50 }
      ],
      series: [
        { label: 'time', value: (_u, v) => v === null ? '–' : clock(new Date(v * 1000).toISOString()).slice(0, 8) },
        ...labels.map((label, i) => ({
          label,
          stroke: COLOURS[i % COLOURS.length] ?? '#d8dee6',
          width: label === TOTAL ? 2 : 1,
          points: { show: false }
        }))
      ]
    }
  }
}
