/**
 * Replay of the archive: a range of simulation time (the last hour unless
 * changed), optionally some topics only, published again in order on a topic
 * of its own (`replay:<id>`) at the speed asked. The page follows the replay
 * it started (progress every second) and can cancel it; the live streams are
 * not touched.
 */
import type { RefObject } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import {
  ARCHIVE_UNAVAILABLE,
  archiveMessage,
  defaultReplayRange,
  REPLAY_DEFAULT_SPEED,
  replayActive,
  replayRequest,
  type ReplayForm,
  type ReplayState,
  type ReplayView,
} from '../lib/archive.js'
import { formatSimTime, formatSpeed } from '../lib/format.js'
import { useSignal } from '../lib/signal.js'
import { useApp } from './context.js'

const utc = (iso: string | null) => (iso ? `${formatSimTime(Date.parse(iso))} UTC` : '—')
const n = (x: number) => x.toLocaleString('en')

const STATE_LABEL: Record<ReplayState, string> = {
  running: 'running',
  done: 'done',
  cancelled: 'cancelled',
  failed: 'failed',
}

type Field = keyof ReplayForm

export function Replay() {
  const app = useApp()
  const state = useSignal(app.state)
  const view = useSignal(app.replay)
  const busy = useSignal(app.busy)
  const [form, setForm] = useState<ReplayForm>({
    start: '',
    end: '',
    streams: '',
    speed: String(REPLAY_DEFAULT_SPEED),
  })
  const [invalid, setInvalid] = useState<{ field: Field; message: string } | null>(null)
  /** The gateway's refusal; `off`: it has no archive to replay from. */
  const [failure, setFailure] = useState<{ text: string; off: boolean } | null>(null)
  const refs: Record<Field, RefObject<HTMLInputElement | null>> = {
    start: useRef<HTMLInputElement>(null),
    end: useRef<HTMLInputElement>(null),
    streams: useRef<HTMLInputElement>(null),
    speed: useRef<HTMLInputElement>(null),
  }
  const known = state !== null
  const timelineId = state?.timeline?.id ?? null

  // The last hour of simulation time: once the clock is known, and again on each new timeline.
  const lastHour = () => {
    const r = defaultReplayRange(app.now())
    if (r) setForm((f) => ({ ...f, ...r }))
  }
  useEffect(() => {
    if (known) lastHour()
  }, [app, known, timelineId])

  const set = (field: Field) => (e: Event) => {
    const value = (e.currentTarget as HTMLInputElement).value
    setForm((f) => ({ ...f, [field]: value }))
  }

  const starting = busy.has('replay')
  const following = replayActive(view)

  const submit = async (e: Event) => {
    e.preventDefault()
    const r = replayRequest(form, app.now())
    if (!r.ok) {
      setInvalid({ field: r.field, message: r.message })
      refs[r.field].current?.focus()
      return
    }
    setInvalid(null)
    setFailure(null)
    const out = await app.replays.start(r.body)
    if (out && !out.ok)
      setFailure({ text: archiveMessage(out), off: out.code === ARCHIVE_UNAVAILABLE })
  }

  const cancel = async () => {
    setFailure(null)
    const out = await app.replays.cancel()
    if (out && !out.ok)
      setFailure({
        text: `Could not cancel: ${archiveMessage(out)}`,
        off: out.code === ARCHIVE_UNAVAILABLE,
      })
  }

  const field = (
    name: Field,
    id: string,
    label: string,
    props: Record<string, unknown>,
    hint?: string,
  ) => {
    const err = invalid?.field === name ? invalid.message : null
    const described = [hint ? `${id}-hint` : '', err ? `${id}-err` : ''].filter(Boolean).join(' ')
    return (
      <div class={`world-field${name === 'streams' ? ' grow' : ''}`}>
        <label class="inline" for={id}>
          {label}
        </label>
        <input
          id={id}
          data-testid={id}
          ref={refs[name]}
          value={form[name]}
          autocomplete="off"
          spellcheck={false}
          aria-invalid={err ? true : undefined}
          aria-describedby={described || undefined}
          onInput={set(name)}
          {...props}
        />
        {hint ? (
          <span class="muted small" id={`${id}-hint`}>
            {hint}
          </span>
        ) : null}
        {err ? (
          <span class="field-error" id={`${id}-err`}>
            {err}
          </span>
        ) : null}
      </div>
    )
  }

  return (
    <section class="panel wide" aria-labelledby="replay-h" id="replay" data-testid="replay-panel">
      <h2 id="replay-h">Replay from the archive</h2>
      <p class="muted small">
        Publishes the archived events of a range again, in order, on a topic of its own at the speed
        asked (60: an hour in a minute). Live streams and the simulation are not touched.
      </p>
      <form class="replay-form" id="replay-form" onSubmit={submit} noValidate>
        <div class="row replay-fields">
          {field('start', 'replay-start-time', 'Start (UTC)', {
            type: 'text',
            placeholder: '2026-11-23T10:00:00Z or -1h',
            class: 'replay-time',
          })}
          {field('end', 'replay-end-time', 'End (UTC)', {
            type: 'text',
            placeholder: '2026-11-23T11:00:00Z or -5m',
            class: 'replay-time',
          })}
          {field('speed', 'replay-speed', 'Speed', {
            type: 'number',
            min: '0',
            step: 'any',
            inputMode: 'decimal',
            class: 'replay-speed',
          })}
          {field('streams', 'replay-streams', 'Streams (optional)', {
            type: 'text',
            placeholder: 'all · e.g. customer.*, system.api.error',
          })}
        </div>
        <p class="muted small" id="replay-hint">
          Times in simulation time, as the page shows them or ISO; a span from now like{' '}
          <code>-2h</code> works too. Streams are topics as for subscriptions, comma-separated.
        </p>
        <div class="row">
          <button
            type="submit"
            class="primary"
            id="btn-replay"
            data-testid="replay-start"
            disabled={starting || following}
            aria-busy={starting}
            title={following ? 'The replay started here is still running' : undefined}
          >
            {starting ? 'Starting…' : 'Start replay'}
          </button>
          <button
            type="button"
            class="small"
            id="replay-last-hour"
            disabled={!known}
            onClick={() => {
              lastHour()
              setInvalid(null)
            }}
          >
            Last hour
          </button>
        </div>
      </form>
      {failure ? (
        <p
          class={failure.off ? 'empty unavailable' : 'field-error'}
          id="replay-error"
          data-archive-off={failure.off ? true : undefined}
          role="alert"
        >
          {failure.text}
        </p>
      ) : null}
      {view ? (
        <ReplayStatusView
          view={view}
          cancelling={busy.has('replay-cancel')}
          onCancel={() => void cancel()}
        />
      ) : null}
    </section>
  )
}

function ReplayStatusView(props: { view: ReplayView; cancelling: boolean; onCancel: () => void }) {
  const { status: s, pollError, lost } = props.view
  const pct = Math.round(s.progress * 100)
  return (
    <div class="replay-status" data-testid="replay-status" data-replay={s.id} data-state={s.state}>
      <p>
        Topic <code data-testid="replay-topic">{s.topic}</code>{' '}
        <span class="muted small">· subscribe to it to receive the replayed events</span>
      </p>
      <div
        class="row replay-progress"
        data-testid="replay-progress"
        data-state={s.state}
        data-sent={s.sent}
        data-total={s.total}
        aria-live="polite"
      >
        <progress
          max={1}
          value={s.progress}
          aria-label={`Replay ${s.id}: ${pct} %`}
          class={`replay-bar replay-bar-${s.state}`}
        />
        <span class="nowrap">
          {n(s.sent)} / {n(s.total)} events ({pct} %)
        </span>
        <span class={`pill replay-${s.state}`}>{STATE_LABEL[s.state]}</span>
        {replayActive(props.view) ? (
          <button
            type="button"
            class="small danger-outline"
            id="replay-cancel"
            data-testid="replay-cancel"
            disabled={props.cancelling}
            aria-busy={props.cancelling}
            onClick={props.onCancel}
          >
            {props.cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        ) : null}
      </div>
      <p class="muted small">
        {utc(s.start)} → {utc(s.end)}
        {s.speed !== null ? ` at ${formatSpeed(s.speed)}` : ''}
      </p>
      {s.error ? (
        <p class="field-error" id="replay-failed">
          {s.error}
        </p>
      ) : null}
      {pollError ? (
        <p class={lost ? 'field-error' : 'muted small'} id="replay-poll-error">
          {pollError}
        </p>
      ) : null}
    </div>
  )
}
