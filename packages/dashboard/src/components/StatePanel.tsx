/**
 * Current state: active scenarios (started, time remaining, status), active
 * external events, the streams being modified, and the recent anomalies.
 */
import { formatDuration, formatShort } from '../lib/format.js'
import { useSignal } from '../lib/signal.js'
import { modifiedStreams, scenarioRows } from '../lib/state-view.js'
import { useApp } from './context.js'
import { FlagDot, SeverityIcon } from './icons.js'

export function StatePanel() {
  const app = useApp()
  const state = useSignal(app.state)
  if (!state) {
    return (
      <section class="panel" aria-labelledby="state-h">
        <h2 id="state-h">Current state</h2>
        <p class="empty">Waiting for the simulation state…</p>
      </section>
    )
  }
  const now = app.now()
  const rows = scenarioRows(state.scenario, now)
  const streams = modifiedStreams(state.modifiers)
  return (
    <section class="panel" aria-labelledby="state-h" id="state-panel">
      <h2 id="state-h">Current state</h2>
      <h3>Active scenarios</h3>
      {rows.length === 0 ? (
        <p class="empty small">None: the simulation runs at its baseline.</p>
      ) : (
        <table class="compact" id="active-scenarios">
          <thead>
            <tr>
              <th scope="col">Scenario</th>
              <th scope="col">Started</th>
              <th scope="col">Remaining</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.runId} data-status={r.status} data-scenario={r.id}>
                <td title={`${r.id} (${r.runId})`}>{r.name}</td>
                <td>{formatShort(r.startedAt)}</td>
                <td
                  title={`${r.status === 'active' ? 'active until' : 'settled by'} ${formatShort(r.phaseEndsAt)}`}
                >
                  {r.remainingMs > 0 ? formatDuration(r.remainingMs) : 'due'}
                </td>
                <td>
                  <span class={`pill mod-${r.status}`}>{r.status}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Active external events</h3>
      {state.activeEvents.length === 0 ? (
        <p class="empty small">None.</p>
      ) : (
        <ul class="plain">
          {state.activeEvents.map((e) => (
            <li key={e.id}>
              <SeverityIcon severity={e.severity} /> {e.title}{' '}
              <span class="muted small">
                {formatShort(Date.parse(e.timestamp))}
                {e.expectedImpact
                  ? ` · ${e.expectedImpact.direction ?? ''} ${e.expectedImpact.magnitude ?? ''} on ${e.expectedImpact.streams.length} stream(s)`
                  : ''}
              </span>
            </li>
          ))}
        </ul>
      )}
      <h3>Modified streams</h3>
      {streams.length === 0 ? (
        <p class="empty small">None.</p>
      ) : (
        <ul class="plain" id="modified-streams">
          {streams.map((m) => (
            <li key={`${m.source} ${m.text}`} data-status={m.status}>
              <code>{m.text}</code> <span class="muted small">{m.source}</span>
            </li>
          ))}
        </ul>
      )}
      <h3>Recent anomalies</h3>
      {state.recentAnomalies.length === 0 ? (
        <p class="empty small">No warning or critical events yet.</p>
      ) : (
        <ul class="plain anomalies">
          {state.recentAnomalies.slice(0, 8).map((a, i) => (
            <li key={a.id ?? i}>
              <FlagDot flag={a.anomalyFlag as 'warning' | 'critical'} /> <code>{a.stream}</code>{' '}
              <span class="muted small">
                {a.normalizedValue.toFixed(0)} · {formatShort(Date.parse(a.timestamp))}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
