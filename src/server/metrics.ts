// The server's metrics in Prometheus' text exposition format (version 0.0.4): requests by model, protocol and
// status, a latency histogram, rows per request and per coalesced batch, model swaps and the process' memory.

type Labels = Record<string, string>

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  )
  return parts.length > 0 ? `{${parts.join(',')}}` : ''
}

/** A cheap map key for a label set (the label text is only built when rendering). */
function seriesKey(labels: Labels): string {
  let key = ''
  for (const k in labels) key += `${labels[k]}\u0000`
  return key
}

class Counter {
  private readonly values = new Map<string, {labels: Labels; value: number}>()

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels, by = 1): void {
    const key = seriesKey(labels)
    const entry = this.values.get(key)
    if (entry) entry.value += by
    else this.values.set(key, {labels, value: by})
  }

  get(labels: Labels): number {
    return this.values.get(seriesKey(labels))?.value ?? 0
  }

  total(): number {
    let sum = 0
    for (const e of this.values.values()) sum += e.value
    return sum
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`]
    for (const e of this.values.values()) lines.push(`${this.name}${labelText(e.labels)} ${e.value}`)
    return lines.join('\n')
  }
}

class Histogram {
  private readonly series = new Map<string, {labels: Labels; counts: Float64Array; sum: number; count: number}>()

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(labels: Labels, value: number): void {
    const key = seriesKey(labels)
    let s = this.series.get(key)
    if (!s) {
      s = {labels, counts: new Float64Array(this.buckets.length), sum: 0, count: 0}
      this.series.set(key, s)
    }
    for (let b = 0; b < this.buckets.length; b++) if (value <= this.buckets[b]!) s.counts[b]!++
    s.sum += value
    s.count++
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    for (const s of this.series.values()) {
      this.buckets.forEach((le, b) => {
        lines.push(`${this.name}_bucket${labelText({...s.labels, le: String(le)})} ${s.counts[b]}`)
      })
      lines.push(`${this.name}_bucket${labelText({...s.labels, le: '+Inf'})} ${s.count}`)
      lines.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`)
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`)
    }
    return lines.join('\n')
  }
}

const ROW_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384, 65536]

export class Metrics {
  readonly requests = new Counter('mlproj_requests_total', 'Prediction requests by model, protocol and HTTP status.')
  readonly latency = new Histogram(
    'mlproj_request_duration_seconds',
    'Time from a prediction request arriving to its response, in seconds.',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  )
  readonly requestRows = new Histogram('mlproj_request_rows', 'Rows per prediction request.', ROW_BUCKETS)
  readonly batchRows = new Histogram(
    'mlproj_batch_rows',
    'Rows per ONNX Runtime run: concurrent requests coalesced into one batch.',
    ROW_BUCKETS,
  )
  readonly swaps = new Counter('mlproj_model_swaps_total', 'Times a followed alias moved and the server switched.')
  readonly logDropped = new Counter(
    'mlproj_prediction_log_dropped_total',
    'Logged rows dropped because the workspace could not take them in time.',
  )
  private readonly started = Date.now()

  constructor(private readonly models: () => ReadonlyArray<{name: string; version: number | null; ref: string}>) {}

  render(): string {
    const memory = process.memoryUsage()
    const info = this.models()
      .map(m => `mlproj_model_info${labelText({model: m.name, version: String(m.version ?? ''), ref: m.ref})} 1`)
      .join('\n')
    return `${[
      this.requests.render(),
      this.latency.render(),
      this.requestRows.render(),
      this.batchRows.render(),
      this.swaps.render(),
      this.logDropped.render(),
      '# HELP mlproj_model_info The model version each served name runs now.',
      '# TYPE mlproj_model_info gauge',
      info,
      '# HELP process_resident_memory_bytes Resident memory size in bytes.',
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${memory.rss}`,
      '# HELP nodejs_heap_used_bytes V8 heap in use, in bytes.',
      '# TYPE nodejs_heap_used_bytes gauge',
      `nodejs_heap_used_bytes ${memory.heapUsed}`,
      '# HELP process_uptime_seconds Seconds since the server started.',
      '# TYPE process_uptime_seconds gauge',
      `process_uptime_seconds ${(Date.now() - this.started) / 1000}`,
    ]
      .filter(s => s !== '')
      .join('\n')}\n`
  }
}
