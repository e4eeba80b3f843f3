/**
 * Live chart: the streams of one domain as normalized 0–100 lines (history's
 * 7-day window joined to per-minute averages of the live tail), anomaly points
 * coloured warning / critical, external events as markers on the time axis.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { formatShort } from '../lib/format.js'
import {
  describeHistory,
  readHistoryStatus,
  type ExternalEvent,
  type StreamInfo,
} from '../lib/model.js'
import { align, joinHistory, type Points } from '../lib/series.js'
import { useSignal } from '../lib/signal.js'
import { useApp } from './context.js'

const PALETTE = [
  '#4e9af1',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#b07aa1',
  '#76b7b2',
  '#edc948',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
  '#86bcb6',
  '#d37295',
]
const SEVERITY_COLOR = { info: '#6aa3ff', warning: '#f2b035', critical: '#ef4444' } as const
const FLAG_COLOR = { warning: '#f2b035', critical: '#ef4444' } as const
const RANGES = [
  { id: '7d', label: '7 d', ms: 7 * 86_400_000 },
  { id: '24h', label: '24 h', ms: 86_400_000 },
  { id: '1h', label: '1 h', ms: 3_600_000 },
  { id: 'fit', label: 'Fit', ms: 0 },
] as const
type RangeId = (typeof RANGES)[number]['id'] | 'zoom'

export function Charts() {
  const app = useApp()
  const catalog = useSignal(app.catalog)
  const streams = catalog.status === 'ok' ? catalog.data : []
  const domains = useMemo(() => [...new Set(streams.map((s) => s.domain))], [streams])
  const [domain, setDomain] = useState<string | null>(null)
  const current = domain ?? domains[0] ?? null

  return (
    <section class="panel wide" aria-labelledby="charts-h" id="charts">
      <div class="row spread">
        <h2 id="charts-h">Live streams</h2>
        {domains.length > 0 ? (
          <div class="row" role="group" aria-label="Domain">
            {domains.map((d) => (
              <button
                type="button"
                class="seg"
                key={d}
                aria-pressed={d === current}
                onClick={() => setDomain(d)}
              >
                {d}
              </button>
            ))}
          </div>
        ) : null}
      </div>
      {catalog.status === 'loading' ? <p class="empty">Loading the stream catalog…</p> : null}
      {catalog.status === 'error' ? (
        <p class="empty error">Stream catalog unavailable ({catalog.message}); retrying…</p>
      ) : null}
      {current ? (
        <DomainChart
          key={current}
          domain={current}
          streams={streams.filter((s) => s.domain === current)}
        />
      ) : null}
    </section>
  )
}

function DomainChart({ domain, streams }: { domain: string; streams: StreamInfo[] }) {
  const app = useApp()
  const tick = useSignal(app.liveTick)
  const clock = useSignal(app.clock)
  const historyStatus = useSignal(app.historyStatus)
  const simState = useSignal(app.state)
  const externalEvents = useSignal(app.externalEvents)
  const [hidden, setHidden] = useState<Set<string>>(new Set())
  const [flags, setFlags] = useState({ warning: true, critical: true })
  // The 7-day window needs history; the live tail alone is best fitted.
  const [range, setRange] = useState<RangeId>(() =>
    app.historyStatus.get().status === 'ok' ? '7d' : 'fit',
  )
  const historyOk = historyStatus.status === 'ok'
  const rangeTouched = useRef(false)
  useEffect(() => {
    if (!rangeTouched.current) setRange(historyOk ? '7d' : 'fit')
  }, [historyOk])
  const onZoom = useRef(() => {
    rangeTouched.current = true
    setRange('zoom')
  })
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const markers = useRef<{
    anomalies: typeof app.anomalies
    events: ExternalEvent[]
    shown: Set<string>
    flags: { warning: boolean; critical: boolean }
  }>({ anomalies: [], events: [], shown: new Set(), flags: { warning: true, critical: true } })
  const names = streams.map((s) => s.name)
  const haveClock = clock !== null

  // History for this domain, once the simulation time is known.
  useEffect(() => {
    if (haveClock) void app.loadHistory(names)
  }, [app, domain, haveClock])

  // One uPlot per domain; resized with its box.
  useEffect(() => {
    const el = box.current
    if (!el) return
    const css = getComputedStyle(document.documentElement)
    const muted = css.getPropertyValue('--muted').trim() || '#9aa4b2'
    const line = css.getPropertyValue('--line').trim() || '#2a3140'
    const axis = {
      stroke: muted,
      grid: { stroke: line, width: 1 },
      ticks: { stroke: line, width: 1 },
    }
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height: 300,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
      legend: { show: false },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true }, y: { range: [0, 100] } },
      axes: [axis, { ...axis, size: 40, splits: () => [0, 30, 50, 70, 100] }],
      series: [
        {},
        ...names.map((n, i) => ({
          label: n,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          spanGaps: true,
          points: { show: false },
        })),
      ],
      hooks: {
        // A drag-zoom holds its range until a range button is pressed.
        setSelect: [(u: uPlot) => void (u.select.width > 0 && onZoom.current())],
        draw: [
          (u: uPlot) => {
            const { ctx } = u
            const { left, top, width, height } = u.bbox
            const [xmin, xmax] = [u.scales.x!.min ?? 0, u.scales.x!.max ?? 0]
            ctx.save()
            ctx.beginPath()
            ctx.rect(left, top, width, height)
            ctx.clip()
            // External events: dashed vertical line and a coloured cap.
            for (const e of markers.current.events) {
              const t = Date.parse(e.timestamp) / 1000
              if (t < xmin || t > xmax) continue
              const x = Math.round(u.valToPos(t, 'x', true))
              ctx.strokeStyle = SEVERITY_COLOR[e.severity]
              ctx.fillStyle = SEVERITY_COLOR[e.severity]
              ctx.setLineDash([4, 4])
              ctx.lineWidth = 1
              ctx.beginPath()
              ctx.moveTo(x, top)
              ctx.lineTo(x, top + height)
              ctx.stroke()
              ctx.setLineDash([])
              ctx.beginPath()
              ctx.moveTo(x - 5, top)
              ctx.lineTo(x + 5, top)
              ctx.lineTo(x, top + 8)
              ctx.fill()
            }
            // Anomalies of the shown streams.
            for (const a of markers.current.anomalies) {
              if (
                a.t < xmin ||
                a.t > xmax ||
                !markers.current.shown.has(a.stream) ||
                !markers.current.flags[a.flag]
              )
                continue
              const x = u.valToPos(a.t, 'x', true)
              const y = u.valToPos(a.v, 'y', true)
              ctx.fillStyle = FLAG_COLOR[a.flag]
              ctx.beginPath()
              ctx.arc(x, y, a.flag === 'critical' ? 4 : 3, 0, Math.PI * 2)
              ctx.fill()
            }
            ctx.restore()
          },
        ],
      },
    }
    const u = new uPlot(opts, [[], ...names.map(() => [])] as uPlot.AlignedData, el)
    plot.current = u
    const ro = new ResizeObserver(() =>
      u.setSize({ width: Math.max(300, el.clientWidth), height: 300 }),
    )
    ro.observe(el)
    return () => {
      ro.disconnect()
      u.destroy()
      plot.current = null
    }
  }, [domain])

  // Data: on every live flush, range change or visibility change.
  const summary = useMemo(() => {
    const out = names.map((n) => {
      const liveP = app.series.points(n)
      const hist: Points = app.history.get(n) ?? { t: [], v: [] }
      return { name: n, live: liveP, joined: joinHistory(hist, liveP) }
    })
    return out
  }, [tick, domain, historyStatus])

  const livePoints = summary.reduce((a, s) => a + s.live.t.length, 0)
  const shown = new Set(names.filter((n) => !hidden.has(n)))
  const anomalyCount = app.anomalies.filter((a) => shown.has(a.stream) && flags[a.flag]).length

  useEffect(() => {
    const u = plot.current
    if (!u) return
    markers.current = {
      anomalies: app.anomalies,
      events: externalEvents.status === 'ok' ? externalEvents.data : [],
      shown,
      flags,
    }
    const data = align(summary.map((s) => s.joined))
    u.batch(() => {
      names.forEach((n, i) => u.setSeries(i + 1, { show: !hidden.has(n) }))
      u.setData(data as uPlot.AlignedData, false)
      const nowS = Math.max(app.now(), app.series.latest) / 1000
      const r = RANGES.find((x) => x.id === range)
      const xs = data[0]
      if (!r) {
        // zoomed by the user: keep their range
      } else if (r.ms > 0 && Number.isFinite(nowS)) {
        // A little room right of "now" for scheduled external events.
        u.setScale('x', { min: nowS - r.ms / 1000, max: nowS + r.ms / 1000 / 40 })
      } else if (xs.length > 1) {
        u.setScale('x', { min: xs[0]!, max: xs[xs.length - 1]! })
      } else if (Number.isFinite(nowS)) {
        u.setScale('x', { min: nowS - 600, max: nowS })
      }
    })
  }, [summary, hidden, range, externalEvents, flags])

  const histState = describeHistory(readHistoryStatus(simState))
  const histNote =
    historyStatus.status === 'ok'
      ? `7-day history (1 h points${histState ? `, ${histState}` : ''}) joined to per-minute averages of the live stream`
      : historyStatus.status === 'unavailable'
        ? 'History not available on this server: live tail only, per-minute averages of normalizedValue computed here'
        : historyStatus.status === 'error'
          ? `History failed (${historyStatus.message}): live tail only`
          : 'Loading history…'

  return (
    <div class="chart-wrap">
      <div class="row spread">
        <p class="muted small" id="history-note">
          {histNote}
        </p>
        <div class="row" role="group" aria-label="Time range">
          {RANGES.map((r) => (
            <button
              type="button"
              class="seg small"
              key={r.id}
              aria-pressed={range === r.id}
              onClick={() => {
                rangeTouched.current = true
                setRange(r.id)
              }}
            >
              {r.label}
            </button>
          ))}
          {range === 'zoom' ? <span class="muted small">zoomed</span> : null}
        </div>
      </div>
      <div
        ref={box}
        class="chart"
        id="chart"
        role="img"
        aria-label={`Normalized values (0–100) of the ${domain} streams over simulation time`}
        data-live-points={livePoints}
        data-anomalies={anomalyCount}
      />
      {livePoints === 0 ? (
        <p class="empty small">Waiting for live events of the {domain} streams…</p>
      ) : null}
      <ul class="legend" aria-label="Streams (toggle to show or hide)">
        {summary.map((s, i) => {
          const last = s.live.v.length
            ? s.live.v[s.live.v.length - 1]
            : s.joined.v[s.joined.v.length - 1]
          const off = hidden.has(s.name)
          return (
            <li key={s.name}>
              <button
                type="button"
                class="legend-item"
                aria-pressed={!off}
                onClick={() =>
                  setHidden((h) => {
                    const n = new Set(h)
                    if (n.has(s.name)) n.delete(s.name)
                    else n.add(s.name)
                    return n
                  })
                }
              >
                <span
                  class="swatch"
                  style={{
                    background: off ? 'transparent' : PALETTE[i % PALETTE.length],
                    borderColor: PALETTE[i % PALETTE.length],
                  }}
                />
                <code>{s.name}</code>
                <span class="muted small">{last === undefined ? '—' : last.toFixed(0)}</span>
              </button>
            </li>
          )
        })}
      </ul>
      <p class="muted small row">
        {(['warning', 'critical'] as const).map((f) => (
          <label class="inline" key={f}>
            <input
              type="checkbox"
              checked={flags[f]}
              onChange={() => setFlags((x) => ({ ...x, [f]: !x[f] }))}
            />
            <span class={`flag flag-${f}`}>{f}</span>
          </label>
        ))}
        points are anomalous events; dashed lines are external events
        {app.series.latest > 0 ? ` · newest live point ${formatShort(app.series.latest)} UTC` : ''}.
        Drag to zoom.
      </p>
    </div>
  )
}
