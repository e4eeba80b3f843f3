/**
 * External events timeline with severity icons; choosing one shows its
 * expected and actual impact and the streams it correlates with
 * (`/api/correlations?event=`).
 */
import { useEffect, useState } from 'preact/hooks'
import type { Loadable } from '../lib/app-state.js'
import { formatDuration, formatShort, formatSimTime, readableDuration } from '../lib/format.js'
import { listOf, type ExternalEvent } from '../lib/model.js'
import { useSignal } from '../lib/signal.js'
import { useApp } from './context.js'
import { SeverityIcon } from './icons.js'

export function Timeline() {
  const app = useApp()
  const events = useSignal(app.externalEvents)
  const [selected, setSelected] = useState<string | null>(null)
  useSignal(app.clock)
  const now = app.now()
  const list = events.status === 'ok' ? [...events.data].reverse() : []
  const current = list.find((e) => e.id === selected) ?? null

  return (
    <section class="panel" aria-labelledby="timeline-h" id="timeline">
      <h2 id="timeline-h">External events</h2>
      {events.status === 'loading' ? <p class="empty">Loading external events…</p> : null}
      {events.status === 'unavailable' ? (
        <p class="empty unavailable" data-unavailable>
          External events not available on this server (the endpoint is not served by this gateway
          version).
        </p>
      ) : null}
      {events.status === 'error' ? (
        <p class="empty error">Could not load external events: {events.message}</p>
      ) : null}
      {events.status === 'ok' && list.length === 0 ? (
        <p class="empty">No external events in the window (±7 days of simulation time).</p>
      ) : null}
      {list.length > 0 ? (
        <ol class="timeline" aria-label="External events, newest first">
          {list.map((e) => {
            const t = Date.parse(e.timestamp)
            const future = Number.isFinite(now) && t > now
            return (
              <li
                key={e.id}
                class={selected === e.id ? 'selected' : undefined}
                data-event-id={e.id}
              >
                <button
                  type="button"
                  class="tl-item"
                  aria-expanded={selected === e.id}
                  aria-controls="event-details"
                  onClick={() => setSelected(selected === e.id ? null : e.id)}
                >
                  <SeverityIcon severity={e.severity} />
                  <span class="tl-title">{e.title}</span>
                  <span class="muted small">
                    {formatShort(t)}
                    {future ? ` · in ${formatDuration(t - now)}` : ''}
                    {e.redHerring ? ' · red herring' : ''}
                  </span>
                </button>
              </li>
            )
          })}
        </ol>
      ) : null}
      {current ? <EventDetails event={current} /> : null}
    </section>
  )
}

interface Correlation {
  stream: string
  strength: number | null
  note: string
}

function readCorrelations(x: unknown): Correlation[] {
  return listOf(x, 'correlations', 'streams', 'affected', 'results')
    .map((c): Correlation | null => {
      if (typeof c === 'string') return { stream: c, strength: null, note: '' }
      if (typeof c !== 'object' || c === null) return null
      const o = c as Record<string, unknown>
      const stream = [o.stream, o.name, o.streamName].find(
        (v): v is string => typeof v === 'string',
      )
      if (!stream) return null
      const s = [o.strength, o.correlation, o.score].find((v): v is number => typeof v === 'number')
      const note = [
        o.direction,
        o.observed,
        o.matched === true ? 'as expected' : o.matched === false ? 'not as expected' : undefined,
      ]
        .filter((v): v is string => typeof v === 'string')
        .join(' · ')
      return { stream, strength: s ?? null, note }
    })
    .filter((c): c is Correlation => c !== null)
}

function EventDetails({ event: e }: { event: ExternalEvent }) {
  const app = useApp()
  const [corr, setCorr] = useState<Loadable<unknown>>({ status: 'loading' })
  useEffect(() => {
    let live = true
    setCorr({ status: 'loading' })
    void app.loadCorrelations({ event: e.id }).then((r) => live && setCorr(r))
    return () => {
      live = false
    }
  }, [app, e.id])
  const ei = e.expectedImpact
  const actual = e.actualImpact
  return (
    <div class="details" id="event-details" role="region" aria-label={`Details of ${e.title}`}>
      <h3>
        <SeverityIcon severity={e.severity} size={18} /> {e.title}
      </h3>
      <p class="muted small">
        {e.type} · {e.severity} · {formatSimTime(Date.parse(e.timestamp))} UTC
        {e.templateId ? ` · template ${e.templateId}` : ''}
      </p>
      {e.description ? <p>{e.description}</p> : null}
      <h4>Expected impact</h4>
      {ei ? (
        <p>
          {[ei.direction, ei.magnitude].filter(Boolean).join(', ') || 'unspecified'}
          {ei.duration ? ` for ${readableDuration(ei.duration)}` : ''}
          {ei.delay ? ` after ${readableDuration(ei.delay)}` : ''} on{' '}
          {ei.streams.length ? ei.streams.map((s) => <code key={s}>{s} </code>) : 'no named stream'}
        </p>
      ) : (
        <p class="muted">Not stated.</p>
      )}
      <h4>Actual impact</h4>
      {actual === null || actual === undefined ? (
        <p class="muted">
          {e.redHerring ? 'None: a red herring (announced, no effect).' : 'Not reported.'}
        </p>
      ) : typeof actual === 'object' ? (
        <pre class="json">{JSON.stringify(actual, null, 2)}</pre>
      ) : (
        <p>{String(actual)}</p>
      )}
      <h4>Correlated streams</h4>
      {corr.status === 'loading' ? <p class="muted">Loading correlations…</p> : null}
      {corr.status === 'unavailable' ? (
        <p class="empty unavailable" data-unavailable>
          Correlations not available on this server.
        </p>
      ) : null}
      {corr.status === 'error' ? (
        <p class="error">Could not load correlations: {corr.message}</p>
      ) : null}
      {corr.status === 'ok' ? (
        <CorrelationTable rows={readCorrelations(corr.data)} raw={corr.data} />
      ) : null}
    </div>
  )
}

function CorrelationTable({ rows, raw }: { rows: Correlation[]; raw: unknown }) {
  if (rows.length === 0) {
    return raw && typeof raw === 'object' && Object.keys(raw).length > 0 ? (
      <pre class="json">{JSON.stringify(raw, null, 2)}</pre>
    ) : (
      <p class="muted">No stream measurably affected.</p>
    )
  }
  return (
    <table class="compact">
      <thead>
        <tr>
          <th scope="col">Stream</th>
          <th scope="col">Strength</th>
          <th scope="col" />
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.stream}>
            <td>
              <code>{r.stream}</code>
            </td>
            <td>
              {r.strength === null ? (
                '—'
              ) : (
                <>
                  <meter min={0} max={1} value={Math.abs(r.strength)} /> {r.strength.toFixed(2)}
                </>
              )}
            </td>
            <td class="muted small">{r.note}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
