/**
 * Event log: the newest events first, filtered by stream, domain, anomaly
 * flag and free text, with pause (the feed keeps counting underneath). The
 * entity ids in a row's data (its summary, and a line of their own when the
 * row is expanded) open that entity's journey.
 */
import { useMemo, useState } from 'preact/hooks'
import type { LogEntry } from '../lib/app-state.js'
import { formatSimTime } from '../lib/format.js'
import { domainOf } from '../lib/model.js'
import { useSignal } from '../lib/signal.js'
import { useApp } from './context.js'
import { DataSummary, EntityLinks, useEntityFields } from './Journey.js'

const SHOWN = 150

type AnomalyFilter = 'all' | 'anomalies' | 'warning' | 'critical'

function haystack(e: LogEntry): string {
  e.haystack ??=
    `${e.event.stream} ${JSON.stringify(e.event.data)} ${(e.event.causes ?? []).join(' ')}`.toLowerCase()
  return e.haystack
}

export function EventLog() {
  const app = useApp()
  const tick = useSignal(app.liveTick)
  const catalog = useSignal(app.catalog)
  const fields = useEntityFields()
  const streams = catalog.status === 'ok' ? catalog.data : []
  const [stream, setStream] = useState('')
  const [domain, setDomain] = useState('')
  const [flag, setFlag] = useState<AnomalyFilter>('all')
  const [text, setText] = useState('')
  const [paused, setPaused] = useState<{ at: number; rows: LogEntry[] } | null>(null)
  const domains = useMemo(() => [...new Set(streams.map((s) => s.domain))], [streams])

  const rows = useMemo(() => {
    const q = text.trim().toLowerCase()
    const out: LogEntry[] = []
    const log = app.log
    for (let i = log.length - 1; i >= 0 && out.length < SHOWN; i--) {
      const entry = log[i] as LogEntry
      const e = entry.event
      if (stream && e.stream !== stream) continue
      if (domain && domainOf(e.stream) !== domain && e.channel !== domain) continue
      if (flag === 'anomalies' && e.anomalyFlag === 'normal') continue
      if ((flag === 'warning' || flag === 'critical') && e.anomalyFlag !== flag) continue
      if (q && !haystack(entry).includes(q)) continue
      out.push(entry)
    }
    return out
  }, [tick, stream, domain, flag, text])

  const shown = paused ? paused.rows : rows
  const newSince = paused ? (app.live()?.stats.delivered ?? 0) : 0

  return (
    <section class="panel wide" aria-labelledby="log-h" id="event-log">
      <div class="row spread">
        <h2 id="log-h">Event log</h2>
        <div class="row">
          <button
            type="button"
            id="btn-log-pause"
            aria-pressed={paused !== null}
            onClick={() =>
              setPaused((p) => (p ? null : { at: app.live()?.stats.delivered ?? 0, rows }))
            }
          >
            {paused ? 'Resume feed' : 'Pause feed'}
          </button>
        </div>
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter events">
        <label>
          Domain
          <select
            value={domain}
            onChange={(e) => setDomain((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">all</option>
            {domains.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
            <option value="external">external events</option>
          </select>
        </label>
        <label>
          Stream
          <select
            value={stream}
            onChange={(e) => setStream((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">all</option>
            {streams
              .filter((s) => !domain || s.domain === domain)
              .map((s) => (
                <option key={s.name} value={s.name}>
                  {s.name}
                </option>
              ))}
          </select>
        </label>
        <label>
          Anomaly
          <select
            value={flag}
            onChange={(e) => setFlag((e.currentTarget as HTMLSelectElement).value as AnomalyFilter)}
          >
            <option value="all">all events</option>
            <option value="anomalies">warning or critical</option>
            <option value="warning">warning</option>
            <option value="critical">critical</option>
          </select>
        </label>
        <label class="grow">
          Text
          <input
            type="search"
            placeholder="id, field value, cause…"
            value={text}
            onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
      </form>
      {paused ? (
        <p class="muted small" role="status">
          Paused: {Math.max(0, newSince - paused.at).toLocaleString('en')} new events since.
        </p>
      ) : null}
      {shown.length === 0 ? (
        <p class="empty">
          {app.log.length === 0
            ? 'Waiting for events…'
            : 'No event among the last received matches these filters.'}
        </p>
      ) : (
        <div class="log-scroll" tabIndex={0} aria-label="Events, newest first">
          <table class="log">
            <colgroup>
              <col class="c-time" />
              <col class="c-stream" />
              <col class="c-value" />
              <col />
            </colgroup>
            <thead>
              <tr>
                <th scope="col">Simulation time</th>
                <th scope="col">Stream</th>
                <th scope="col">Value</th>
                <th scope="col">Data</th>
              </tr>
            </thead>
            <tbody>
              {shown.map(({ event: e }) => (
                <tr
                  key={e.id}
                  class={e.anomalyFlag !== 'normal' ? `row-${e.anomalyFlag}` : undefined}
                >
                  <td class="nowrap">{formatSimTime(Date.parse(e.timestamp))}</td>
                  <td>
                    <code>{e.stream}</code>
                  </td>
                  <td class="nowrap">
                    {e.normalizedValue.toFixed(0)}
                    {e.anomalyFlag !== 'normal' ? (
                      <span class={`flag flag-${e.anomalyFlag}`}>{e.anomalyFlag}</span>
                    ) : null}
                  </td>
                  <td class="data">
                    <details>
                      <summary>
                        <DataSummary data={e.data} fields={fields} />
                      </summary>
                      <EntityLinks data={e.data} fields={fields} />
                      <pre>{JSON.stringify(e, null, 2)}</pre>
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p class="muted small">
        Showing up to {SHOWN} matches among the last {app.log.length.toLocaleString('en')} events
        received.
      </p>
    </section>
  )
}
