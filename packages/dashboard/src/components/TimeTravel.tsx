/**
 * Snapshots, restore and time travel: save the run now under a name; the saved
 * snapshots (restore one as a new timeline, delete one); travel to any moment
 * of the run, previewed first (the state and the events there, nothing
 * switched); and the timelines a restore or a travel left, each with a way
 * back. Every switch asks first, saying which new timeline it begins.
 */
import { createContext } from 'preact'
import { useContext, useEffect, useRef, useState } from 'preact/hooks'
import { formatDuration, formatSimTime } from '../lib/format.js'
import { useSignal } from '../lib/signal.js'
import {
  eventsAround,
  formatBytes,
  formatWall,
  isSwitching,
  KIND_LABEL,
  nextTimelineNumber,
  previewFigures,
  resolveTarget,
  timelineLabel,
  travelWindow,
  type PreviewEvent,
  type Snapshot,
  type Timeline,
  type TimelineSwitch,
  type TravelPreview,
} from '../lib/time-travel.js'
import { useApp } from './context.js'
import { FlagDot } from './icons.js'

const NAME_MAX = 100
const DESCRIPTION_MAX = 2000

/** What the confirmation dialog asks before a switch of timeline or a delete. */
interface Ask {
  title: string
  lines: string[]
  confirm: string
  danger?: boolean
  onConfirm: () => void
}

/** Opens the panel's confirmation dialog. */
const AskContext = createContext<(ask: Ask) => void>(() => undefined)

const utc = (iso: string | number) =>
  `${formatSimTime(typeof iso === 'number' ? iso : Date.parse(iso))} UTC`
const plural = (n: number, one: string) => `${n.toLocaleString('en')} ${one}${n === 1 ? '' : 's'}`

/** What the next switch begins, and (when asked, with the clock then) what it leaves. */
function useSwitchWords() {
  const app = useApp()
  const state = useSignal(app.state)
  const timelines = useSignal(app.timelines)
  const current = state?.timeline ?? null
  const next = nextTimelineNumber(timelines.status === 'ok' ? timelines.data : null, current)
  const leaves = () =>
    `${current ? `Timeline ${current.number}` : 'The current line'} is saved where it stands at that moment (now ${utc(app.now())}), with its commands: Timelines offers a way back to it.`
  return { next, leaves }
}

export function TimeTravel() {
  const app = useApp()
  const snapshots = useSignal(app.snapshots)
  const [ask, setAsk] = useState<Ask | null>(null)
  if (snapshots.status === 'unavailable') {
    return (
      <section class="panel wide" aria-labelledby="tt-h" id="time-travel">
        <h2 id="tt-h">Time travel</h2>
        <p class="empty unavailable" data-unavailable>
          Snapshots and time travel not available on this server (the endpoints are not served by
          this gateway, or the generator does not keep snapshots).
        </p>
      </section>
    )
  }
  return (
    <section class="panel wide" aria-labelledby="tt-h" id="time-travel">
      <div class="row spread">
        <h2 id="tt-h">Time travel</h2>
        <button
          type="button"
          class="small"
          id="tt-refresh"
          onClick={() => void app.loadTimeTravel()}
        >
          Refresh
        </button>
      </div>
      <Summary />
      <AskContext.Provider value={setAsk}>
        <div class="tt-grid">
          <Snapshots />
          <Travel />
          <Timelines />
        </div>
      </AskContext.Provider>
      <ConfirmDialog ask={ask} onClosed={() => setAsk(null)} />
    </section>
  )
}

/** The timeline the run is on, and what is kept to restore and travel from. */
function Summary() {
  const app = useApp()
  const state = useSignal(app.state)
  const snapshots = useSignal(app.snapshots)
  const tl = state?.timeline ?? null
  const list = snapshots.status === 'ok' ? snapshots.data : null
  const auto = list?.automatic ?? null
  return (
    <p class="muted small" id="tt-summary">
      {tl ? (
        <>
          On <strong>{timelineLabel(tl)}</strong> since {utc(tl.forkedAt)}.{' '}
        </>
      ) : null}
      {list
        ? `${plural(list.snapshots.length, 'snapshot')} saved${
            list.maxSaved !== null ? ` (at most ${list.maxSaved})` : ''
          } in Redis.`
        : null}
      {auto && auto.count > 0
        ? ` Travel starts from the nearest of ${plural(auto.count, 'automatic snapshot')} (every ${
            auto.everyHours
          } h of simulation, ${formatBytes(auto.sizeBytes)} in the ${auto.storage}).`
        : null}
      {list && list.maxSaved !== null && list.snapshots.length >= list.maxSaved ? (
        <strong class="error" id="tt-full">
          {' '}
          The most this generator keeps: delete one before saving, restoring or travelling (each
          switch saves where the current timeline stands).
        </strong>
      ) : null}
    </p>
  )
}

function Snapshots() {
  const app = useApp()
  const snapshots = useSignal(app.snapshots)
  const timelines = useSignal(app.timelines)
  const state = useSignal(app.state)
  const busy = useSignal(app.busy)
  const ask = useContext(AskContext)
  const words = useSwitchWords()
  const [name, setName] = useState('')
  const [description, setDescription] = useState('')
  const [errors, setErrors] = useState<{ name?: string; description?: string }>({})
  const nameRef = useRef<HTMLInputElement>(null)
  const descriptionRef = useRef<HTMLTextAreaElement>(null)
  const saving = busy.has('snapshot')
  const locked = isSwitching(busy)

  const submit = async (e: Event) => {
    e.preventDefault()
    const n = name.trim()
    const d = description.trim()
    const found: typeof errors = {}
    if (!n) found.name = 'Name is required.'
    else if (n.length > NAME_MAX)
      found.name = `Name is ${n.length} characters long; at most ${NAME_MAX}.`
    if (d.length > DESCRIPTION_MAX)
      found.description = `Description is ${d.length} characters long; at most ${DESCRIPTION_MAX}.`
    setErrors(found)
    // Focus the first field to fix.
    if (found.name) nameRef.current?.focus()
    else if (found.description) descriptionRef.current?.focus()
    else if (await app.timeTravel.snapshot(n, d)) {
      setName('')
      setDescription('')
    }
  }

  const lineOf = (s: Snapshot): Timeline | undefined =>
    timelines.status === 'ok'
      ? timelines.data.timelines.find((t) => t.returnSnapshot === s.id)
      : undefined

  const askRestore = (s: Snapshot) =>
    ask({
      title: `Restore “${s.name}”?`,
      lines: [
        `The run continues from this snapshot's state at ${utc(s.simulatedTime)} as a new timeline: timeline ${words.next}.`,
        words.leaves(),
        'Streaming clients reconnect; the chart and the event log start again from the restored moment.',
      ],
      confirm: `Restore: begin timeline ${words.next}`,
      onConfirm: () => void app.timeTravel.restore(s.id, `snapshot “${s.name}”`),
    })

  const askDelete = (s: Snapshot) => {
    const line = lineOf(s)
    ask({
      title: `Delete snapshot “${s.name}”?`,
      lines: [
        `${s.id}, at ${utc(s.simulatedTime)}, ${formatBytes(s.sizeBytes)}: removed from Redis. This cannot be undone.`,
        ...(line
          ? [
              `It is the way back to timeline ${line.number}: without it, that timeline cannot be gone back to.`,
            ]
          : []),
      ],
      confirm: 'Delete snapshot',
      danger: true,
      onConfirm: () => void app.timeTravel.remove(s),
    })
  }

  const wallNow = Date.now()
  return (
    <div class="subpanel tt-snapshots" id="snapshots">
      <h3 id="snapshots-h">Snapshots</h3>
      <form
        class="tt-create"
        id="snapshot-form"
        aria-labelledby="snapshot-form-h"
        onSubmit={submit}
        noValidate
      >
        <h4 id="snapshot-form-h">Create snapshot</h4>
        <div class="row tt-create-fields">
          <div class="world-field grow">
            <label class="inline" for="snapshot-name">
              Name<span aria-hidden="true"> *</span>
            </label>
            <input
              id="snapshot-name"
              ref={nameRef}
              name="name"
              value={name}
              maxLength={NAME_MAX}
              placeholder="e.g. before the outage"
              aria-required="true"
              aria-invalid={errors.name ? true : undefined}
              aria-describedby={errors.name ? 'snapshot-name-err' : undefined}
              onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
            />
            {errors.name ? (
              <span class="field-error" id="snapshot-name-err">
                {errors.name}
              </span>
            ) : null}
          </div>
          <div class="world-field grow">
            <label class="inline" for="snapshot-description">
              Description <span class="muted">(optional)</span>
            </label>
            <textarea
              id="snapshot-description"
              ref={descriptionRef}
              name="description"
              rows={1}
              value={description}
              maxLength={DESCRIPTION_MAX}
              aria-invalid={errors.description ? true : undefined}
              aria-describedby={errors.description ? 'snapshot-description-err' : undefined}
              onInput={(e) => setDescription((e.currentTarget as HTMLTextAreaElement).value)}
            />
            {errors.description ? (
              <span class="field-error" id="snapshot-description-err">
                {errors.description}
              </span>
            ) : null}
          </div>
          <button
            type="submit"
            class="primary"
            disabled={!state || saving || locked}
            aria-busy={saving}
          >
            {saving ? 'Saving…' : 'Save snapshot'}
          </button>
        </div>
        <p class="muted small">
          Saves the whole run now (world, random streams, scenarios, clock, commands) in Redis.
        </p>
      </form>
      {snapshots.status === 'loading' ? <p class="empty">Loading snapshots…</p> : null}
      {snapshots.status === 'error' ? (
        <p class="empty error">
          Could not load snapshots: {snapshots.message}{' '}
          <button type="button" class="link" onClick={() => void app.loadTimeTravel()}>
            Retry
          </button>
        </p>
      ) : null}
      {snapshots.status === 'ok' ? (
        <div class="table-scroll">
          <table class="compact" id="snapshot-list" aria-labelledby="snapshots-h">
            <thead>
              <tr>
                <th scope="col">Snapshot</th>
                <th scope="col">Simulation time (UTC)</th>
                <th scope="col">Saved (UTC)</th>
                <th scope="col">Size</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {[...snapshots.data.snapshots].reverse().map((s) => {
                const restoring = busy.has(`restore:${s.id}`)
                const deleting = busy.has(`snapshot-delete:${s.id}`)
                return (
                  <tr key={s.id} data-snapshot={s.id} data-kind={s.kind}>
                    <td>
                      <strong class="tt-name">{s.name}</strong>{' '}
                      <span class={`pill kind-${s.kind}`}>{KIND_LABEL[s.kind]}</span>
                      {s.description ? <div class="muted small">{s.description}</div> : null}
                      <div class="muted small">
                        {s.id}
                        {s.timeline ? ` · on ${s.timeline.replace(/^tl_/, 'timeline ')}` : ''}
                        {s.commands !== null ? ` · ${plural(s.commands, 'command')}` : ''}
                      </div>
                    </td>
                    <td class="nowrap">{formatSimTime(Date.parse(s.simulatedTime))}</td>
                    <td class="nowrap" title={s.createdAt ?? undefined}>
                      {s.createdAt ? formatWall(Date.parse(s.createdAt), wallNow) : '—'}
                    </td>
                    <td class="nowrap">{formatBytes(s.sizeBytes)}</td>
                    <td class="nowrap tt-actions">
                      <button
                        type="button"
                        class="small"
                        data-action="restore"
                        aria-label={`Restore ${s.name}`}
                        disabled={!state || locked}
                        aria-busy={restoring}
                        onClick={() => askRestore(s)}
                      >
                        {restoring ? 'Restoring…' : 'Restore'}
                      </button>
                      {s.kind === 'origin' ? null : (
                        <button
                          type="button"
                          class="small danger-outline"
                          data-action="delete"
                          aria-label={`Delete ${s.name}`}
                          disabled={deleting || locked}
                          aria-busy={deleting}
                          onClick={() => askDelete(s)}
                        >
                          {deleting ? 'Deleting…' : 'Delete'}
                        </button>
                      )}
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  )
}

function Travel() {
  const app = useApp()
  const state = useSignal(app.state)
  const busy = useSignal(app.busy)
  const ask = useContext(AskContext)
  const words = useSwitchWords()
  const [text, setText] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [failure, setFailure] = useState<string | null>(null)
  const [preview, setPreview] = useState<TravelPreview | null>(null)
  const [arrived, setArrived] = useState<TimelineSwitch | null>(null)
  const input = useRef<HTMLInputElement>(null)
  const timelineId = state?.timeline?.id ?? null
  const known = state !== null

  // The current simulation time by default: once it is known, and again on each new timeline.
  useEffect(() => {
    if (known) setText(formatSimTime(app.now()))
  }, [app, known, timelineId])

  const now = app.now()
  const range = travelWindow(state?.startedAt, now)
  const typed = resolveTarget(text, now)
  const offset = typed === null || !Number.isFinite(now) ? null : typed - now
  const previewing = busy.has('preview')
  const travelling = busy.has('travel')
  const locked = isSwitching(busy)

  /** The field's time, or null with the problem shown and the field focused. */
  const target = (): number | null => {
    const t = resolveTarget(text, app.now())
    if (t === null) {
      setError(
        'Target time must be a time in UTC like 2026-11-23 10:15:00, or a span from now like -2h.',
      )
      input.current?.focus()
      return null
    }
    setError(null)
    setFailure(null)
    return t
  }

  const onPreview = async (e: Event) => {
    e.preventDefault()
    const t = target()
    if (t === null) return
    const r = await app.timeTravel.preview(t)
    if (!r) return
    if (r.ok) setPreview(r.value)
    else {
      setPreview(null)
      setFailure(r.message)
    }
  }

  const onTravel = () => {
    const t = target()
    if (t === null) return
    const ahead = t - app.now()
    ask({
      title: `Travel to ${utc(t)}?`,
      lines: [
        `The run is taken to that moment exactly and paused there, as a new timeline: timeline ${words.next}.`,
        ahead > 0
          ? `That is ${formatDuration(ahead)} ahead: the simulation runs there first (recorded in the history, not streamed).`
          : `That is ${formatDuration(-ahead)} back: it is re-simulated from the nearest automatic snapshot with the commands logged up to it.`,
        words.leaves(),
        'Resume (Clock) continues from there. Streaming clients reconnect; the chart and the event log start again from that moment.',
      ],
      confirm: `Travel: begin timeline ${words.next}`,
      onConfirm: () =>
        void app.timeTravel.travel(t).then((r) => {
          if (!r) return
          if (r.ok) {
            setArrived(r.value)
            setPreview(null)
          } else setFailure(r.message)
        }),
    })
  }

  const here = arrived && state?.timeline?.id === arrived.timeline.id ? arrived : null
  return (
    <form
      class="subpanel"
      id="travel-form"
      aria-labelledby="travel-h"
      onSubmit={onPreview}
      noValidate
    >
      <h3 id="travel-h">Travel to …</h3>
      <div class="world-field">
        <label class="inline" for="travel-time">
          Target time (UTC)
        </label>
        <div class="row">
          <input
            id="travel-time"
            ref={input}
            type="text"
            class="grow"
            autocomplete="off"
            spellcheck={false}
            placeholder="2026-11-23 10:15:00 or -2h"
            value={text}
            aria-invalid={error ? true : undefined}
            aria-describedby={`travel-time-hint${error ? ' travel-time-err' : ''}`}
            onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
          />
          <button
            type="button"
            class="small"
            id="travel-now"
            disabled={!known}
            onClick={() => {
              setText(formatSimTime(app.now()))
              setError(null)
            }}
          >
            Now
          </button>
        </div>
        <span class="muted small" id="travel-time-hint">
          A time as the page shows them, or a span from now (<code>-2h</code>, <code>+1d</code>):{' '}
          {range.from !== null && range.to !== null
            ? `from ${utc(range.from)} (the run's start) to ${utc(range.to)} (30 simulated days past now).`
            : 'from the run’s start to 30 simulated days past now.'}
        </span>
        {typed !== null && offset !== null ? (
          <span class="muted small" id="travel-time-resolved" aria-live="polite">
            {utc(typed)}:{' '}
            {Math.abs(offset) < 1000
              ? 'now'
              : `${formatDuration(Math.abs(offset))} ${offset < 0 ? 'back' : 'ahead'}`}
          </span>
        ) : null}
        {error ? (
          <span class="field-error" id="travel-time-err">
            {error}
          </span>
        ) : null}
      </div>
      <div class="row">
        <button
          type="submit"
          id="btn-preview"
          disabled={!known || previewing}
          aria-busy={previewing}
        >
          {previewing ? 'Previewing…' : 'Preview'}
        </button>
        <button
          type="button"
          class="primary"
          id="btn-travel"
          disabled={!known || locked}
          aria-busy={travelling}
          onClick={onTravel}
        >
          {travelling ? 'Travelling…' : 'Travel…'}
        </button>
      </div>
      {failure ? (
        <p class="field-error" id="travel-error" role="alert">
          {failure}
        </p>
      ) : null}
      {here ? (
        <p class="tt-arrived" id="travel-arrived" role="status">
          {state?.paused
            ? `Paused at ${utc(here.currentSimulationTime)} on timeline ${here.timeline.number}. Resume (Clock) continues from there.`
            : `Timeline ${here.timeline.number} continues from ${utc(here.currentSimulationTime)}.`}
        </p>
      ) : null}
      <div aria-live="polite">{preview ? <Preview p={preview} /> : null}</div>
    </form>
  )
}

/** A dry run's answer: the figures at the target and a few events either side of it. */
function Preview({ p }: { p: TravelPreview }) {
  const app = useApp()
  const state = useSignal(app.state)
  const figures = previewFigures(p.stats, state?.stats)
  const around = eventsAround(p)
  const n = (x: number) => x.toLocaleString('en')
  return (
    <div class="tt-preview" id="travel-preview" data-target={p.targetTime}>
      <p>
        <strong>At {utc(p.targetTime)}</strong>{' '}
        <span class="muted small">
          (preview: nothing switched
          {p.from ? `; from the snapshot of ${utc(p.from)}` : ''}
          {p.replayed !== null ? `, ${plural(p.replayed, 'command')} replayed` : ''}
          {p.tookMs !== null ? `, ${n(p.tookMs)} ms` : ''})
        </span>
      </p>
      <dl class="kv">
        {figures.map((f) => [
          <dt key={`${f.key}-t`}>{f.key[0]!.toUpperCase() + f.key.slice(1)}</dt>,
          <dd key={`${f.key}-d`} data-figure={f.key}>
            {n(f.value)}
            {f.now !== null ? <span class="muted small"> (now {n(f.now)})</span> : null}
          </dd>,
        ])}
        <dt>Scenario</dt>
        <dd data-figure="scenario">
          {p.scenario ? `${p.scenario.name} (${p.scenario.status})` : 'none (baseline)'}
        </dd>
        <dt>Modifiers · external events</dt>
        <dd data-figure="active">
          {p.activeModifiers} · {p.activeEvents}
        </dd>
        <dt>Anomalous streams</dt>
        <dd data-figure="anomalous">
          {p.anomalousStreams.length}
          {p.anomalousStreams.slice(0, 3).map((a) => (
            <span key={a.stream}>
              {' '}
              <code>{a.stream}</code>
              <FlagDot flag={a.flag} />
            </span>
          ))}
          {p.anomalousStreams.length > 3 ? ' …' : ''}
        </dd>
        <dt>Events{p.windowMs !== null ? ` within ${formatDuration(p.windowMs)}` : ''}</dt>
        <dd data-figure="events">
          <span data-before={p.before.length}>{n(p.before.length)} before</span> ·{' '}
          <span data-after={p.after.length}>{n(p.after.length)} after</span>
        </dd>
      </dl>
      {around.before.length + around.after.length > 0 ? (
        <div class="table-scroll">
          <table class="compact" id="travel-events" aria-label="Events around the target">
            <thead>
              <tr>
                <th scope="col">Simulation time</th>
                <th scope="col">Stream</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {around.before.map((e, i) => (
                <EventRow key={`b${i}`} e={e} side="before" />
              ))}
              <tr class="tt-target">
                <td colSpan={3}>target {formatSimTime(Date.parse(p.targetTime))}</td>
              </tr>
              {around.after.map((e, i) => (
                <EventRow key={`a${i}`} e={e} side="after" />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  )
}

function EventRow({ e, side }: { e: PreviewEvent; side: 'before' | 'after' }) {
  return (
    <tr data-side={side}>
      <td class="nowrap">{formatSimTime(Date.parse(e.timestamp))}</td>
      <td>
        <code>{e.stream}</code>
      </td>
      <td class="nowrap">
        {e.normalizedValue.toFixed(0)}
        {e.anomalyFlag !== 'normal' ? <FlagDot flag={e.anomalyFlag} /> : null}
      </td>
    </tr>
  )
}

function Timelines() {
  const app = useApp()
  const timelines = useSignal(app.timelines)
  const snapshots = useSignal(app.snapshots)
  const busy = useSignal(app.busy)
  const state = useSignal(app.state)
  const ask = useContext(AskContext)
  const words = useSwitchWords()
  const locked = isSwitching(busy)
  /** Saved snapshots' names by id (null until listed). */
  const saved =
    snapshots.status === 'ok' ? new Map(snapshots.data.snapshots.map((s) => [s.id, s.name])) : null

  const askBack = (t: Timeline, id: string) =>
    ask({
      title: `Go back to timeline ${t.number}?`,
      lines: [
        `Restores where timeline ${t.number} was left (${t.leftAt ? utc(t.leftAt) : 'its last moment'}, snapshot ${id}) as a new timeline: timeline ${words.next}.`,
        words.leaves(),
      ],
      confirm: `Go back: begin timeline ${words.next}`,
      onConfirm: () => void app.timeTravel.restore(id, `timeline ${t.number} where it was left`),
    })

  return (
    <div class="subpanel" id="timelines" aria-labelledby="timelines-h">
      <h3 id="timelines-h">Timelines</h3>
      {timelines.status === 'loading' ? <p class="empty small">Loading timelines…</p> : null}
      {timelines.status === 'error' ? (
        <p class="empty error">Could not load timelines: {timelines.message}</p>
      ) : null}
      {timelines.status === 'ok' ? (
        <ol class="plain tt-lines">
          {timelines.data.timelines.map((t) => {
            const current = t.id === timelines.data.current
            const back = t.returnSnapshot
            const gone = back !== null && saved !== null && !saved.has(back)
            return (
              <li
                key={t.id}
                data-timeline={t.id}
                data-current={current ? 'true' : undefined}
                class={current ? 'current' : undefined}
              >
                <div class="row spread">
                  <span>
                    <strong>Timeline {t.number}</strong>{' '}
                    <span class="muted small">{began(t, saved ?? new Map())}</span>
                    {current ? <span class="pill tt-current">current</span> : null}
                  </span>
                  {!current && back ? (
                    <button
                      type="button"
                      class="small"
                      data-action="go-back"
                      aria-label={`Go back to timeline ${t.number}`}
                      disabled={!state || locked || gone}
                      aria-busy={busy.has(`restore:${back}`)}
                      title={gone ? `its snapshot ${back} was deleted` : undefined}
                      onClick={() => askBack(t, back)}
                    >
                      {busy.has(`restore:${back}`) ? 'Going back…' : 'Go back'}
                    </button>
                  ) : null}
                </div>
                <p class="muted small">
                  From {utc(t.forkedAt)}
                  {t.leftAt ? ` to ${utc(t.leftAt)} (left)` : ' · now'}
                </p>
                {t.commands.length === 0 ? (
                  <p class="muted small" data-commands="0">
                    {current ? 'No commands yet.' : 'No commands.'}
                  </p>
                ) : (
                  <details data-commands={t.commands.length}>
                    <summary class="small">
                      {plural(t.commands.length, 'command')}
                      {current ? ' so far' : ''}
                    </summary>
                    <ul class="plain small">
                      {t.commands.map((c, i) => (
                        <li key={i} title={JSON.stringify(c.detail)}>
                          <code>{c.action}</code>{' '}
                          <span class="muted">{formatSimTime(Date.parse(c.simulatedTime))}</span>
                        </li>
                      ))}
                    </ul>
                  </details>
                )}
              </li>
            )
          })}
        </ol>
      ) : null}
    </div>
  )
}

/** How a timeline began, in a few words: `restored “before lunch”, leaving timeline 2`. */
function began(t: Timeline, names: ReadonlyMap<string, string>): string {
  const leaving = t.parent ? `, leaving ${t.parent.replace(/^tl_/, 'timeline ')}` : ''
  switch (t.reason) {
    case 'start':
      return 'the run as it began'
    case 'restore': {
      const name = t.restoredFrom ? names.get(t.restoredFrom) : undefined
      const what = name ? `“${name}”` : (t.restoredFrom ?? 'a snapshot')
      return `restored ${what}${leaving}`
    }
    case 'travel':
      return `travelled${leaving}`
  }
}

/** The panel's confirmation: opens on an ask, focuses the safe choice, confirms or cancels. */
function ConfirmDialog({ ask, onClosed }: { ask: Ask | null; onClosed: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null)
  const cancel = useRef<HTMLButtonElement>(null)
  useEffect(() => {
    const d = dialog.current
    if (!d) return
    if (ask && !d.open) {
      d.showModal()
      cancel.current?.focus()
    } else if (!ask && d.open) d.close()
  }, [ask])
  return (
    <dialog
      ref={dialog}
      id="tt-dialog"
      class="modal"
      aria-labelledby="tt-dialog-h"
      aria-describedby="tt-dialog-body"
      onClose={onClosed}
    >
      <form method="dialog">
        <h2 id="tt-dialog-h">{ask?.title}</h2>
        <div id="tt-dialog-body">
          {ask?.lines.map((l, i) => (
            <p key={i}>{l}</p>
          ))}
        </div>
        <div class="row end">
          <button type="submit" value="cancel" ref={cancel}>
            Cancel
          </button>
          <button
            type="button"
            class={ask?.danger ? 'danger' : 'primary'}
            id="tt-confirm"
            onClick={() => {
              const a = ask
              dialog.current?.close()
              a?.onConfirm()
            }}
          >
            {ask?.confirm}
          </button>
        </div>
      </form>
    </dialog>
  )
}
