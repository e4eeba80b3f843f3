/**
 * Scenario cards from /api/simulation/scenarios with Activate (loading state,
 * disabled while one is active), Stop (shows when it will be settled) and
 * Reset to baseline (red, with a confirmation listing what it clears).
 */
import { useEffect, useRef } from 'preact/hooks'
import { formatDuration, formatSimTime, readableDuration } from '../lib/format.js'
import { systemStatus, type SimState } from '../lib/model.js'
import { useSignal } from '../lib/signal.js'
import { useApp } from './context.js'

function Unavailable({ what }: { what: string }) {
  return (
    <p class="empty unavailable" data-unavailable>
      {what} not available on this server (the endpoint is not served by this gateway version).
    </p>
  )
}

export function Scenarios() {
  const app = useApp()
  const scenarios = useSignal(app.scenarios)
  const state = useSignal(app.state)
  const busy = useSignal(app.busy)
  const status = systemStatus(state)
  const anyActive = status === 'Running'
  const activeIds = new Set(
    (state?.activeModifiers ?? [])
      .filter((m) => m.status === 'active')
      .map((m) => m.scenarioId ?? m.id),
  )

  return (
    <section class="panel" aria-labelledby="scenarios-h" id="scenarios">
      <h2 id="scenarios-h">Scenarios</h2>
      {scenarios.status === 'loading' ? <p class="empty">Loading scenarios…</p> : null}
      {scenarios.status === 'unavailable' ? <Unavailable what="Scenarios are" /> : null}
      {scenarios.status === 'error' ? (
        <p class="empty error">
          Could not load scenarios: {scenarios.message}{' '}
          <button type="button" class="link" onClick={() => void app.loadScenarios()}>
            Retry
          </button>
        </p>
      ) : null}
      {scenarios.status === 'ok' && scenarios.data.length === 0 ? (
        <p class="empty">This world defines no scenarios.</p>
      ) : null}
      {scenarios.status === 'ok' ? (
        <ul class="cards">
          {scenarios.data.map((s) => {
            const loading = busy.has(`scenario:${s.id}`)
            const isActive = activeIds.has(s.id)
            return (
              <li class={`card${isActive ? ' active' : ''}`} key={s.id} data-scenario={s.id}>
                <h3>{s.name}</h3>
                <p>{s.description}</p>
                <div class="row spread">
                  <span class="muted small">
                    {s.duration ? `Duration ${readableDuration(s.duration)}` : ''}
                  </span>
                  <button
                    type="button"
                    class="primary"
                    disabled={anyActive || loading}
                    aria-busy={loading}
                    title={anyActive ? 'Stop the active scenario first' : undefined}
                    onClick={() => void app.control.activate(s)}
                  >
                    {loading ? 'Activating…' : isActive ? 'Active' : 'Activate'}
                  </button>
                </div>
              </li>
            )
          })}
        </ul>
      ) : null}
      <ScenarioActions />
    </section>
  )
}

function ScenarioActions() {
  const app = useApp()
  const state = useSignal(app.state)
  const busy = useSignal(app.busy)
  const scenarios = useSignal(app.scenarios)
  const until = useSignal(app.settlingUntil)
  const dialog = useRef<HTMLDialogElement>(null)
  const status = systemStatus(state)
  const settling = state?.activeModifiers.find((m) => m.status === 'settling')
  const settledAt = until ?? settling?.endsAt ?? null
  const available = scenarios.status !== 'unavailable'

  return (
    <div class="scenario-actions">
      <div class="row">
        <button
          type="button"
          id="btn-stop"
          onClick={() => void app.control.stop()}
          disabled={!available || status !== 'Running' || busy.has('stop')}
        >
          {busy.has('stop') ? 'Stopping…' : 'Stop current scenario'}
        </button>
        <button
          type="button"
          id="btn-reset"
          class="danger"
          disabled={!available || busy.has('reset')}
          onClick={() => dialog.current?.showModal()}
        >
          {busy.has('reset') ? 'Resetting…' : 'Reset to baseline'}
        </button>
      </div>
      {status === 'Settling' || settledAt ? (
        <p class="muted small" id="settling-info">
          Settling
          {settledAt ? `: back to baseline by ${formatSimTime(Date.parse(settledAt))} UTC` : '…'}
          {settledAt ? <Remaining until={settledAt} /> : null}
        </p>
      ) : null}
      <ResetDialog dialogRef={dialog} state={state} onConfirm={() => void app.control.reset()} />
    </div>
  )
}

function Remaining({ until }: { until: string }) {
  const app = useApp()
  const left = Date.parse(until) - app.now()
  return Number.isFinite(left) && left > 0 ? <> (in {formatDuration(left)})</> : null
}

function ResetDialog({
  dialogRef,
  state,
  onConfirm,
}: {
  dialogRef: { current: HTMLDialogElement | null }
  state: SimState | null
  onConfirm: () => void
}) {
  const cancel = useRef<HTMLButtonElement>(null)
  useEffect(() => {
    const d = dialogRef.current
    if (!d) return
    // Focus the safe choice when it opens.
    const onOpen = () => cancel.current?.focus()
    d.addEventListener('focus', onOpen)
    return () => d.removeEventListener('focus', onOpen)
  }, [dialogRef])
  const mods = state?.activeModifiers ?? []
  const events = state?.activeEvents ?? []
  const close = () => dialogRef.current?.close()
  return (
    <dialog ref={dialogRef} id="reset-dialog" aria-labelledby="reset-h" class="modal">
      <form method="dialog">
        <h2 id="reset-h">Reset to baseline?</h2>
        <p>This clears:</p>
        <ul class="clears">
          <li>
            {mods.length === 0
              ? 'no active scenario modifiers'
              : `${mods.length} scenario modifier${mods.length === 1 ? '' : 's'}: ${mods
                  .map((m) => `${m.name} (${m.status})`)
                  .join(', ')}`}
          </li>
          <li>
            {events.length === 0
              ? 'no injected external events'
              : `${events.length} external event${events.length === 1 ? '' : 's'}: ${events
                  .slice(0, 5)
                  .map((e) => e.title)
                  .join(', ')}${events.length > 5 ? ', …' : ''}`}
          </li>
          <li>
            {state?.historicalMode === 'modified'
              ? 'the modified history (it returns to the baseline)'
              : 'any history modifications (the history is currently the baseline)'}
          </li>
          <li>the charts' live data and anomaly markers on this page</li>
        </ul>
        <div class="row end">
          <button type="submit" value="cancel" ref={cancel} autofocus>
            Cancel
          </button>
          <button
            type="button"
            class="danger"
            id="btn-reset-confirm"
            onClick={() => {
              close()
              onConfirm()
            }}
          >
            Reset to baseline
          </button>
        </div>
      </form>
    </dialog>
  )
}
