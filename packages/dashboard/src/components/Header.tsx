/**
 * World, simulation time ticking, the timeline the run is on, speed,
 * running/paused, connection state and system status (Running / Settling /
 * Baseline).
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { formatSimTime, formatSpeedKept } from '../lib/format.js'
import { systemStatus } from '../lib/model.js'
import { useSignal } from '../lib/signal.js'
import { timelineLabel } from '../lib/time-travel.js'
import { useApp } from './context.js'

function SimClock() {
  const app = useApp()
  const clock = useSignal(app.clock)
  const [text, setText] = useState('—')
  const shown = useRef(Number.NEGATIVE_INFINITY)
  useEffect(() => {
    const tick = () => {
      const t = app.now(shown.current)
      if (Number.isFinite(t)) {
        shown.current = t
        setText(formatSimTime(t))
      }
    }
    tick()
    const id = setInterval(tick, 250)
    return () => clearInterval(id)
  }, [app, clock])
  return (
    <time
      class="simclock"
      id="sim-time"
      dateTime={Number.isFinite(shown.current) ? new Date(shown.current).toISOString() : undefined}
    >
      {text}
      <span class="muted"> UTC</span>
    </time>
  )
}

const CONN_LABEL = {
  connecting: 'connecting…',
  open: 'live',
  reconnecting: 'reconnecting',
  closed: 'closed',
} as const

export function Header() {
  const app = useApp()
  const state = useSignal(app.state)
  const stateError = useSignal(app.stateError)
  const conn = useSignal(app.connection)
  const eps = useSignal(app.eventsPerSecond)
  const status = systemStatus(state)
  const run = !state ? '—' : state.paused ? 'paused' : state.running ? 'running' : 'stopped'
  const kept = state
    ? formatSpeedKept(state.speed, state.effectiveSpeed, state.running && !state.paused)
    : null
  return (
    <header class="top">
      <div class="brand">
        <strong>Verisim</strong> <span class="muted">admin</span>
      </div>
      <dl class="facts">
        <div>
          <dt>World</dt>
          <dd id="world">{state?.world ?? '—'}</dd>
        </div>
        <div>
          <dt>Simulation time</dt>
          <dd>
            <SimClock />
          </dd>
        </div>
        {state?.timeline ? (
          <div>
            <dt>Timeline</dt>
            <dd
              id="header-timeline"
              data-timeline={state.timeline.id}
              title={`${state.timeline.id}: ${
                state.timeline.parent === null
                  ? 'the run as it began'
                  : `began at ${formatSimTime(Date.parse(state.timeline.forkedAt))} UTC by a ${state.timeline.reason} from ${state.timeline.parent}`
              }`}
            >
              {timelineLabel(state.timeline)}
            </dd>
          </div>
        ) : null}
        <div>
          <dt>Speed</dt>
          <dd
            id="speed"
            class={kept?.lagging ? 'lagging' : undefined}
            title={
              kept?.lagging
                ? 'the generator cannot keep the requested speed: simulation time runs slower'
                : undefined
            }
          >
            {kept ? kept.text : '—'}
          </dd>
        </div>
        <div>
          <dt>Clock</dt>
          <dd>
            <span id="run-state" class={`pill run-${run}`}>
              {run}
            </span>
          </dd>
        </div>
        <div>
          <dt>System</dt>
          <dd>
            <span id="system-status" class={`pill sys-${status.toLowerCase()}`}>
              {status}
            </span>
          </dd>
        </div>
        <div>
          <dt>Connection</dt>
          <dd>
            <span id="connection" class={`pill conn-${conn.state}`} role="status">
              {CONN_LABEL[conn.state]}
              {conn.state === 'reconnecting' && conn.delayMs !== undefined
                ? ` in ${Math.ceil(conn.delayMs / 1000)} s (attempt ${conn.attempt})`
                : ''}
            </span>
            {conn.state === 'open' ? (
              <span class="muted small"> {eps.toLocaleString('en')} ev/s</span>
            ) : null}
          </dd>
        </div>
      </dl>
      {stateError ? (
        <p class="banner error" role="alert">
          Simulation state unavailable: {stateError}
        </p>
      ) : null}
    </header>
  )
}
