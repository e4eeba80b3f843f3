/**
 * Advanced controls: external event injection (a template of the world's
 * library or custom, past or future, with a preview), a stream modifier form,
 * and saved scenarios in localStorage with JSON export/import.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import {
  formatDuration,
  formatSimTime,
  parseIsoDuration,
  parseSpan,
  readableDuration,
  toIsoDuration,
} from '../lib/format.js'
import { groupTemplates, templateLabel, type EventTemplate } from '../lib/model.js'
import {
  loadSaved,
  makeSaved,
  parseImport,
  replayPlan,
  storeSaved,
  upsert,
  type SavedScenario,
} from '../lib/saved.js'
import { useSignal } from '../lib/signal.js'
import { useApp } from './context.js'

const TYPES = ['marketing', 'product', 'infrastructure', 'academic', 'competitive', 'operational']
const SEVERITIES = ['info', 'warning', 'critical']
const DIRECTIONS = ['increase', 'decrease', 'mixed']
const MAGNITUDES = ['low', 'medium', 'high']

/** A labelled select of plain string options. */
function Choice(props: {
  label: string
  value: string
  options: readonly string[]
  onChange: (value: string) => void
}) {
  return (
    <label>
      {props.label}
      <select
        value={props.value}
        onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        {props.options.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
    </label>
  )
}

/** `+2h`, `-1d 6h` (relative to the simulation time) or an ISO date → epoch ms; null when neither. */
export function resolveWhen(text: string, now: number): number | null {
  const span = parseSpan(text)
  if (span !== null) return Number.isFinite(now) ? now + span : null
  const t = Date.parse(text)
  return Number.isNaN(t) ? null : t
}

export function Advanced() {
  return (
    <section class="panel wide" aria-labelledby="adv-h" id="advanced">
      <h2 id="adv-h">Advanced</h2>
      <div class="adv-grid">
        <InjectForm />
        <ModifierForm />
        <SavedScenarios />
      </div>
    </section>
  )
}

function InjectForm() {
  const app = useApp()
  const catalog = useSignal(app.catalog)
  const external = useSignal(app.externalEvents)
  const library = useSignal(app.templates)
  const busy = useSignal(app.busy)
  useSignal(app.clock)
  const [mode, setMode] = useState<'template' | 'custom'>('template')
  const [templateId, setTemplateId] = useState('')
  const [when, setWhen] = useState('+1h')
  const [type, setType] = useState('marketing')
  const [title, setTitle] = useState('')
  const [description, setDescription] = useState('')
  const [severity, setSeverity] = useState('info')
  const [streams, setStreams] = useState<string[]>([])
  const [direction, setDirection] = useState('increase')
  const [magnitude, setMagnitude] = useState('medium')
  const [duration, setDuration] = useState('6h')
  const [delay, setDelay] = useState('0h')
  const [error, setError] = useState<string | null>(null)

  // Without the library (an older gateway): the template ids seen so far, as suggestions.
  const seenIds = useMemo(
    () =>
      external.status === 'ok'
        ? [
            ...new Set(
              external.data.map((e) => e.templateId).filter((x): x is string => x !== null),
            ),
          ].sort()
        : [],
    [external],
  )
  const choices = library.status === 'ok' ? library.data : []
  const groups = useMemo(() => groupTemplates(choices), [choices])
  const pick = choices.length > 0
  const chosen = pick ? (choices.find((t) => t.id === templateId) ?? null) : null
  const id = pick ? (chosen?.id ?? '') : templateId.trim()
  const now = app.now()
  const at = resolveWhen(when, now)
  const body: Record<string, unknown> =
    mode === 'template'
      ? {
          templateId: id,
          timestamp: at === null ? null : new Date(at).toISOString(),
        }
      : {
          type,
          title: title.trim(),
          description: description.trim(),
          severity,
          timestamp: at === null ? null : new Date(at).toISOString(),
          expectedImpact: { streams, direction, magnitude, duration, delay },
        }
  const problems: string[] = []
  if (at === null) problems.push('“When” must be a span like +2h / -1d or an ISO date')
  if (mode === 'template' && !id)
    problems.push(pick ? 'choose a template' : 'a template id is needed')
  if (mode === 'custom' && !title.trim()) problems.push('a title is needed')
  if (mode === 'custom' && streams.length === 0) problems.push('pick at least one affected stream')
  if (mode === 'custom' && parseSpan(duration) === null)
    problems.push('duration must be a span like 6h')
  const past = at !== null && Number.isFinite(now) && at < now

  const submit = async (e: Event) => {
    e.preventDefault()
    if (problems.length) {
      setError(problems.join('; '))
      return
    }
    setError(null)
    await app.control.inject(body)
  }

  return (
    <form class="subpanel" onSubmit={submit} aria-labelledby="inject-h" id="inject-form">
      <h3 id="inject-h">Inject an external event</h3>
      {external.status === 'unavailable' ? (
        <p class="empty unavailable" data-unavailable>
          External events not available on this server.
        </p>
      ) : null}
      <fieldset class="row">
        <legend>Source</legend>
        <label>
          <input
            type="radio"
            name="inject-mode"
            checked={mode === 'template'}
            onChange={() => setMode('template')}
          />{' '}
          From template
        </label>
        <label>
          <input
            type="radio"
            name="inject-mode"
            checked={mode === 'custom'}
            onChange={() => setMode('custom')}
          />{' '}
          Custom
        </label>
      </fieldset>
      {mode === 'template' && pick ? (
        <label>
          Template
          <select
            id="inject-template"
            value={id}
            onChange={(e) => setTemplateId((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">Choose a template…</option>
            {groups.map((g) => (
              <optgroup key={g.category} label={g.category[0]!.toUpperCase() + g.category.slice(1)}>
                {g.templates.map((t) => (
                  <option key={t.id} value={t.id}>
                    {templateLabel(t)}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
        </label>
      ) : mode === 'template' ? (
        <>
          <label>
            Template id
            <input
              id="inject-template"
              list="template-ids"
              value={templateId}
              placeholder="e.g. tiktok-mention"
              aria-describedby="template-note"
              onInput={(e) => setTemplateId((e.currentTarget as HTMLInputElement).value)}
            />
            <datalist id="template-ids">
              {seenIds.map((t) => (
                <option key={t} value={t} />
              ))}
            </datalist>
          </label>
          <p class="muted small" id="template-note" data-template-note>
            {library.status === 'loading'
              ? 'Loading the template list…'
              : library.status === 'ok'
                ? 'This world has no external-event library: use Custom.'
                : 'The template list is not available from this server: type a template id.'}
          </p>
        </>
      ) : (
        <>
          <div class="row">
            <Choice label="Type" value={type} options={TYPES} onChange={setType} />
            <Choice label="Severity" value={severity} options={SEVERITIES} onChange={setSeverity} />
          </div>
          <label>
            Title
            <input
              value={title}
              onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)}
            />
          </label>
          <label>
            Description
            <textarea
              rows={2}
              value={description}
              onInput={(e) => setDescription((e.currentTarget as HTMLTextAreaElement).value)}
            />
          </label>
          <label>
            Affected streams
            <select
              multiple
              size={5}
              onChange={(e) =>
                setStreams(
                  Array.from(
                    (e.currentTarget as HTMLSelectElement).selectedOptions,
                    (o) => o.value,
                  ),
                )
              }
            >
              {(catalog.status === 'ok' ? catalog.data : []).map((s) => (
                <option key={s.name} value={s.name} selected={streams.includes(s.name)}>
                  {s.name}
                </option>
              ))}
            </select>
          </label>
          <div class="row">
            <Choice
              label="Direction"
              value={direction}
              options={DIRECTIONS}
              onChange={setDirection}
            />
            <Choice
              label="Magnitude"
              value={magnitude}
              options={MAGNITUDES}
              onChange={setMagnitude}
            />
            <label>
              Duration
              <input
                size={5}
                value={duration}
                onInput={(e) => setDuration((e.currentTarget as HTMLInputElement).value)}
              />
            </label>
            <label>
              Delay
              <input
                size={5}
                value={delay}
                onInput={(e) => setDelay((e.currentTarget as HTMLInputElement).value)}
              />
            </label>
          </div>
        </>
      )}
      <label>
        <span>
          When (simulation time: <code>+2h</code>, <code>-1d</code> or an ISO date)
        </span>
        <input value={when} onInput={(e) => setWhen((e.currentTarget as HTMLInputElement).value)} />
      </label>
      <div class="preview" aria-live="polite">
        <strong>Preview:</strong>{' '}
        {at === null ? (
          <span class="error">no valid time</span>
        ) : (
          <span>
            {formatSimTime(at)} UTC,{' '}
            {past
              ? `${formatDuration(now - at)} in the past: the history of that window is regenerated`
              : Number.isFinite(now)
                ? `scheduled in ${formatDuration(at - now)} of simulation time`
                : 'scheduled'}
          </span>
        )}
        {mode === 'template' && chosen ? <TemplateSummary t={chosen} /> : null}
        <pre class="json">{JSON.stringify(body, null, 2)}</pre>
      </div>
      {error ? (
        <p class="field-error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" class="primary" disabled={busy.has('inject')}>
        {busy.has('inject') ? 'Injecting…' : 'Inject event'}
      </button>
    </form>
  )
}

const ARROW: Record<string, string> = { increase: '↑ ', decrease: '↓ ', mixed: '↕ ' }

/** What the chosen template says it does, under the form's preview. */
function TemplateSummary({ t }: { t: EventTemplate }) {
  const ei = t.expectedImpact
  const delay = ei?.delay ? parseIsoDuration(ei.delay) : null
  return (
    <div class="template-info" data-template={t.id}>
      {t.description ? <p>{t.description}</p> : null}
      {t.redHerring ? (
        <p class="muted">Red herring: announced like any event, but it changes no stream.</p>
      ) : null}
      {ei ? (
        <dl class="kv" aria-label="Expected impact">
          <dt>Streams</dt>
          <dd>
            {ei.streams.map((s) => (
              <code key={s}>{s} </code>
            ))}
          </dd>
          <dt>Direction</dt>
          <dd>
            {ARROW[ei.direction ?? ''] ?? ''}
            {ei.direction ?? '—'}
          </dd>
          <dt>Magnitude</dt>
          <dd>{ei.magnitude ?? '—'}</dd>
          <dt>Duration</dt>
          <dd>{ei.duration ? readableDuration(ei.duration) : '—'}</dd>
          <dt>Delay</dt>
          <dd>
            {delay === 0
              ? 'none'
              : ei.delay
                ? `${readableDuration(ei.delay)} after the event`
                : '—'}
          </dd>
        </dl>
      ) : null}
    </div>
  )
}

function ModifierForm() {
  const app = useApp()
  const catalog = useSignal(app.catalog)
  const busy = useSignal(app.busy)
  const streams = catalog.status === 'ok' ? catalog.data : []
  const [stream, setStream] = useState('')
  const [kind, setKind] = useState<'multiplier' | 'additive' | 'override'>('multiplier')
  const [target, setTarget] = useState<'rate' | 'value'>('rate')
  const [value, setValue] = useState('1.5')
  const [duration, setDuration] = useState('2h')
  const [stats, setStats] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const chosen = stream || streams[0]?.name || ''
  const unit = streams.find((s) => s.name === chosen)?.unit ?? ''

  useEffect(() => {
    if (!chosen) return
    let live = true
    setStats(null)
    void app.loadStatistics([chosen]).then((r) => {
      if (!live) return
      if (r.status !== 'ok') {
        setStats(
          r.status === 'unavailable' ? 'baseline statistics not available on this server' : null,
        )
        return
      }
      const byStream = ((r.data as Record<string, unknown>)?.streams ?? r.data) as Record<
        string,
        Record<string, unknown>
      >
      const b = byStream?.[chosen]
      const mean = typeof b?.mean === 'number' ? b.mean : null
      const sd = typeof b?.stdDev === 'number' ? b.stdDev : null
      setStats(mean === null ? 'no baseline for this stream' : `${mean}|${sd ?? ''}`)
    })
    return () => {
      live = false
    }
  }, [app, chosen])

  const v = Number(value)
  const valid = value.trim() !== '' && Number.isFinite(v) && (kind !== 'multiplier' || v > 0)
  // empty: until reset; else a span (2h, 90m) or ISO 8601 (PT2H)
  const span = duration.trim() === '' ? 0 : (parseSpan(duration) ?? parseIsoDuration(duration))
  let preview = ''
  if (target === 'rate') {
    const op =
      kind === 'multiplier'
        ? `× ${valid ? v : '?'}`
        : kind === 'additive'
          ? `+ ${valid ? v : '?'} events per hour`
          : `= ${valid ? v : '?'} events per hour`
    preview = `arrival rate ${op}`
  } else if (stats && stats.includes('|')) {
    const [m, sd] = stats.split('|').map(Number) as [number, number]
    const after = kind === 'multiplier' ? m * v : kind === 'additive' ? m + v : v
    const z = sd ? (after - m) / sd : null
    preview = `baseline mean ${round(m)} ${unit} → ${valid ? round(after) : '?'} ${unit}${
      z !== null && valid
        ? ` (${z >= 0 ? '+' : ''}${z.toFixed(1)} σ, normalized ≈ ${round(Math.max(0, Math.min(100, 50 + (z * 50) / 3)))})`
        : ''
    }`
  } else if (stats) preview = stats

  const payload = {
    stream: chosen,
    type: kind,
    target,
    value: v,
    ...(span ? { duration: toIsoDuration(span) } : {}),
  }
  const submit = async (e: Event) => {
    e.preventDefault()
    if (!chosen || !valid || span === null || span < 0) {
      setError(
        !valid
          ? kind === 'multiplier'
            ? 'a positive multiplier is needed'
            : 'a number is needed'
          : 'duration must be a span like 2h (or empty: until reset)',
      )
      return
    }
    setError(null)
    await app.control.modify(payload)
  }

  return (
    <form class="subpanel" onSubmit={submit} aria-labelledby="mod-h" id="modifier-form">
      <h3 id="mod-h">Stream modifier</h3>
      <label>
        Stream
        <select
          name="stream"
          value={chosen}
          onChange={(e) => setStream((e.currentTarget as HTMLSelectElement).value)}
        >
          {streams.map((s) => (
            <option key={s.name} value={s.name}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      <div class="row">
        <label>
          Kind
          <select
            name="kind"
            value={kind}
            onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value as typeof kind)}
          >
            <option value="multiplier">multiplier (×)</option>
            <option value="additive">additive (+)</option>
            <option value="override">override (=)</option>
          </select>
        </label>
        <label>
          Target
          <select
            name="target"
            value={target}
            onChange={(e) =>
              setTarget((e.currentTarget as HTMLSelectElement).value as typeof target)
            }
          >
            <option value="rate">rate</option>
            <option value="value">value</option>
          </select>
        </label>
        <label>
          Value
          <input
            name="value"
            size={6}
            inputMode="decimal"
            value={value}
            onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label>
          Duration
          <input
            name="duration"
            size={5}
            value={duration}
            placeholder="until reset"
            onInput={(e) => setDuration((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
      </div>
      <p class="preview" aria-live="polite">
        <strong>Preview:</strong> {preview || 'loading baseline…'}
      </p>
      {error ? (
        <p class="field-error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" class="primary" disabled={busy.has('modifier') || !chosen}>
        {busy.has('modifier') ? 'Applying…' : 'Apply modifier'}
      </button>
      <p class="muted small">
        Sent as the WebSocket control action <code>adjust_behavior</code>; it acts from the current
        simulation time, and an empty duration lasts until reset.
      </p>
    </form>
  )
}

function round(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2).replace(/\.?0+$/, '')
}

function download(name: string, data: unknown) {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' })
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = name
  a.click()
  setTimeout(() => URL.revokeObjectURL(a.href), 1000)
}

function SavedScenarios() {
  const app = useApp()
  const state = useSignal(app.state)
  const [list, setList] = useState<SavedScenario[]>(() => loadSaved())
  const [name, setName] = useState('')
  const [applying, setApplying] = useState<string | null>(null)
  const file = useRef<HTMLInputElement>(null)

  const persist = (next: SavedScenario[]) => {
    setList(next)
    try {
      storeSaved(next)
    } catch (err) {
      app.toast('error', `Could not store in localStorage: ${(err as Error).message}`)
    }
  }

  const save = (e: Event) => {
    e.preventDefault()
    if (!state || !name.trim()) return
    const s = makeSaved(
      name.trim(),
      state.world,
      app.now(),
      state.activeModifiers.map((m) => m.raw),
      state.activeEvents.map((x) => ({ timestamp: x.timestamp, raw: x.raw })),
    )
    persist(upsert(list, s))
    app.toast(
      'success',
      `Saved “${s.name}”: ${s.modifiers.length} modifier(s), ${s.events.length} event(s)`,
    )
    setName('')
  }

  const apply = async (s: SavedScenario) => {
    setApplying(s.name)
    try {
      const plan = replayPlan(s, app.now())
      const scenarios = app.scenarios.get()
      for (const id of plan.scenarioIds) {
        const known =
          scenarios.status === 'ok' ? scenarios.data.find((x) => x.id === id) : undefined
        await app.control.activate(known ?? { id, name: id, description: '', duration: '' })
      }
      for (const m of plan.streamModifiers) await app.control.modify(m)
      for (const ev of plan.events) await app.control.inject(ev)
      if (plan.scenarioIds.length + plan.streamModifiers.length + plan.events.length === 0) {
        app.toast('info', `“${s.name}” holds no modifiers or events`)
      }
    } finally {
      setApplying(null)
    }
  }

  const onImport = async () => {
    const f = file.current?.files?.[0]
    if (!f) return
    try {
      const items = parseImport(await f.text())
      let next = list
      for (const s of items) next = upsert(next, s)
      persist(next)
      app.toast('success', `Imported ${items.map((s) => `“${s.name}”`).join(', ')}`)
    } catch (err) {
      app.toast('error', `Import failed: ${(err as Error).message}`)
    } finally {
      if (file.current) file.current.value = ''
    }
  }

  const mods = state?.activeModifiers.length ?? 0
  const evs = state?.activeEvents.length ?? 0
  return (
    <div class="subpanel" id="saved-scenarios">
      <h3>Saved scenarios</h3>
      <form class="row" onSubmit={save}>
        <label class="grow">
          Name
          <input
            value={name}
            placeholder="my demo"
            onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" disabled={!state || !name.trim()}>
          Save current
        </button>
      </form>
      <p class="muted small">
        Saves the {mods} active modifier(s) and {evs} active external event(s) in this browser.
      </p>
      {list.length === 0 ? (
        <p class="empty small">Nothing saved yet.</p>
      ) : (
        <ul class="plain saved">
          {list.map((s) => (
            <li key={s.name}>
              <span>
                <strong>{s.name}</strong>{' '}
                <span class="muted small">
                  {s.modifiers.length} mod · {s.events.length} ev · saved{' '}
                  {formatSimTime(Date.parse(s.savedAt))}
                </span>
              </span>
              <span class="row">
                <button
                  type="button"
                  class="small"
                  disabled={applying !== null}
                  onClick={() => void apply(s)}
                >
                  {applying === s.name ? 'Applying…' : 'Apply'}
                </button>
                <button
                  type="button"
                  class="small"
                  onClick={() => download(`${s.name}.verisim.json`, s)}
                >
                  Export
                </button>
                <button
                  type="button"
                  class="small danger-outline"
                  onClick={() => persist(list.filter((x) => x.name !== s.name))}
                  aria-label={`Delete ${s.name}`}
                >
                  Delete
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
      <div class="row">
        <button
          type="button"
          disabled={list.length === 0}
          onClick={() => download('verisim-scenarios.json', list)}
        >
          Export all
        </button>
        <label class="file">
          Import JSON
          <input
            ref={file}
            type="file"
            accept="application/json,.json"
            onChange={() => void onImport()}
          />
        </label>
      </div>
    </div>
  )
}
