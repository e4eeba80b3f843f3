/** Start / pause / resume and the speed: presets 1×, 5×, 10×, 60× and a custom value. */
import { useState } from 'preact/hooks'
import { useSignal } from '../lib/signal.js'
import { useApp } from './context.js'

const PRESETS = [1, 5, 10, 60]
const MIN_SPEED = 0.1
const MAX_SPEED = 10_000

export function Controls() {
  const app = useApp()
  const state = useSignal(app.state)
  const busy = useSignal(app.busy)
  const [custom, setCustom] = useState('')
  const [customError, setCustomError] = useState<string | null>(null)
  const paused = state?.paused ?? false
  const running = (state?.running ?? false) && !paused

  const applyCustom = (e: Event) => {
    e.preventDefault()
    const v = Number(custom)
    if (!custom.trim() || !Number.isFinite(v) || v < MIN_SPEED || v > MAX_SPEED) {
      setCustomError(`a number from ${MIN_SPEED} to ${MAX_SPEED}`)
      return
    }
    setCustomError(null)
    void app.control.speed(v)
  }

  return (
    <section class="panel" aria-labelledby="controls-h">
      <h2 id="controls-h">Clock</h2>
      <div class="row">
        <button
          type="button"
          id="btn-start"
          onClick={() => void app.control.start()}
          disabled={!state || running || paused || busy.has('start')}
        >
          {busy.has('start') ? 'Starting…' : 'Start'}
        </button>
        <button
          type="button"
          id="btn-pause"
          onClick={() => void app.control.pause()}
          disabled={!state || !running || busy.has('pause')}
        >
          {busy.has('pause') ? 'Pausing…' : 'Pause'}
        </button>
        <button
          type="button"
          id="btn-resume"
          onClick={() => void app.control.resume()}
          disabled={!state || !paused || busy.has('resume')}
        >
          {busy.has('resume') ? 'Resuming…' : 'Resume'}
        </button>
      </div>
      <fieldset class="speed">
        <legend>Speed (simulation seconds per second)</legend>
        <div class="row" role="group" aria-label="Speed presets">
          {PRESETS.map((p) => (
            <button
              type="button"
              key={p}
              class="seg"
              data-speed={p}
              aria-pressed={state?.speed === p}
              disabled={!state || busy.has('speed')}
              onClick={() => void app.control.speed(p)}
            >
              {p}×
            </button>
          ))}
        </div>
        <form class="row" onSubmit={applyCustom} noValidate>
          <label for="speed-custom">Custom</label>
          <input
            id="speed-custom"
            type="number"
            inputMode="decimal"
            min={MIN_SPEED}
            max={MAX_SPEED}
            step="any"
            placeholder="e.g. 600"
            value={custom}
            onInput={(e) => setCustom((e.currentTarget as HTMLInputElement).value)}
            aria-invalid={customError !== null}
            aria-describedby={customError ? 'speed-custom-err' : undefined}
          />
          <button type="submit" disabled={!state || busy.has('speed')}>
            Set
          </button>
        </form>
        {customError ? (
          <p id="speed-custom-err" class="field-error">
            Speed must be {customError}.
          </p>
        ) : null}
      </fieldset>
    </section>
  )
}
