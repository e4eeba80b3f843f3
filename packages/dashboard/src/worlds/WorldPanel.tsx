/**
 * The generic "World" panel, for any world: what the running world is (model,
 * channels, streams, its figures from the simulation state) and its actions,
 * each with a form generated from the action's payload JSON Schema that posts
 * the action and shows the server's answer or its error.
 */
import { useMemo, useState } from 'preact/hooks'
import { useApp } from '../components/context.js'
import { useSignal } from '../lib/signal.js'
import type { WorldActionInfo, WorldDescription } from './model.js'
import {
  bounds,
  formFields,
  initialValues,
  readPayload,
  type FormField,
  type FormValues,
} from './schema-form.js'

export function WorldPanel({ world }: { world: WorldDescription }) {
  return (
    <section class="panel wide" aria-labelledby="world-panel-h" id="world-panel">
      <h2 id="world-panel-h">World</h2>
      <p>
        <strong>{world.id}</strong> <span class="muted small">({world.model} model)</span>
        {world.description ? ` — ${world.description}` : ''}
      </p>
      <p class="muted small">
        {world.streams.length} streams on {world.channels.length} channels
        {world.segments.length > 0 ? `, ${world.segments.length} persona segments` : ''}
      </p>
      <Figures keys={world.statsKeys} />
      <h3 id="world-actions-h">Actions</h3>
      {world.actions.length === 0 ? (
        <p class="empty">This world has no actions.</p>
      ) : (
        <div class="adv-grid" aria-labelledby="world-actions-h">
          {world.actions.map((a) => (
            <ActionForm key={a.name} action={a} />
          ))}
        </div>
      )}
    </section>
  )
}

/** The world's figures (`stats` in the simulation state): numbers, one level of nesting flattened. */
function Figures({ keys }: { keys: readonly string[] }) {
  const app = useApp()
  const state = useSignal(app.state)
  const stats = state?.stats
  if (typeof stats !== 'object' || stats === null || keys.length === 0) return null
  const rows: [string, number][] = []
  for (const k of keys) {
    const v = (stats as Record<string, unknown>)[k]
    if (typeof v === 'number') rows.push([k, v])
    else if (typeof v === 'object' && v !== null)
      for (const [k2, v2] of Object.entries(v))
        if (typeof v2 === 'number') rows.push([`${k}.${k2}`, v2])
  }
  if (rows.length === 0) return null
  return (
    <details id="world-figures">
      <summary>World figures</summary>
      <dl class="kv">
        {rows.map(([k, v]) => [<dt key={`${k}-t`}>{k}</dt>, <dd key={`${k}-d`}>{v}</dd>])}
      </dl>
    </details>
  )
}

type Answer = { ok: true; answer: unknown } | { ok: false; code: string; message: string } | null

function ActionForm({ action }: { action: WorldActionInfo }) {
  const app = useApp()
  const busy = useSignal(app.busy)
  const fields = useMemo(() => formFields(action.payload), [action.payload])
  const [values, setValues] = useState<FormValues>(() => initialValues(fields))
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [answer, setAnswer] = useState<Answer>(null)
  const id = `wa-${action.name}`
  const sending = busy.has(`world:${action.name}`)

  const submit = async (e: Event) => {
    e.preventDefault()
    const read = readPayload(fields, values)
    setErrors(read.errors)
    if (Object.keys(read.errors).length > 0) {
      setAnswer(null)
      // Focus the first field to fix.
      const first = fields.find((f) => read.errors[f.name])
      if (first) document.getElementById(`${id}-${first.name}`)?.focus()
      return
    }
    setAnswer(await app.worldAction(action.name, read.payload))
  }

  return (
    <form
      class="subpanel world-action"
      id={id}
      data-action={action.name}
      aria-labelledby={`${id}-h`}
      onSubmit={submit}
      noValidate
    >
      <h4 id={`${id}-h`}>
        <code>{action.name}</code>
      </h4>
      {action.description ? <p class="muted small">{action.description}</p> : null}
      {fields.map((f) => (
        <Field
          key={f.name}
          id={`${id}-${f.name}`}
          field={f}
          value={values[f.name] ?? ''}
          error={errors[f.name]}
          onChange={(v) => setValues((prev) => ({ ...prev, [f.name]: v }))}
        />
      ))}
      <button type="submit" class="primary" disabled={sending} aria-busy={sending}>
        {sending ? 'Applying…' : `Apply ${action.name}`}
      </button>
      {answer?.ok === true ? (
        <div class="action-answer" role="status" aria-live="polite">
          <strong>Server answer</strong>
          <pre class="json">{JSON.stringify(answer.answer, null, 2)}</pre>
        </div>
      ) : null}
      {answer?.ok === false ? (
        <p class="field-error action-error" role="alert">
          {answer.code}: {answer.message}
        </p>
      ) : null}
    </form>
  )
}

function Field(props: {
  id: string
  field: FormField
  value: string | boolean
  error: string | undefined
  onChange: (v: string | boolean) => void
}) {
  const { id, field: f, value, error } = props
  const hint = [
    f.description,
    f.kind === 'integer' || f.kind === 'number' ? bounds(f) : '',
    f.kind === 'json' ? 'JSON' : '',
    f.required ? '' : 'optional',
  ]
    .filter(Boolean)
    .join(' · ')
  const described = [hint ? `${id}-hint` : '', error ? `${id}-err` : ''].filter(Boolean).join(' ')
  const common = {
    id,
    name: f.name,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': described || undefined,
    'aria-required': f.required || undefined,
  }
  const text = typeof value === 'string' ? value : ''
  let input
  if (f.kind === 'boolean') {
    input = (
      <input
        {...common}
        type="checkbox"
        checked={value === true}
        onChange={(e) => props.onChange((e.currentTarget as HTMLInputElement).checked)}
      />
    )
  } else if (f.kind === 'enum') {
    input = (
      <select
        {...common}
        value={text}
        onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        {f.required ? null : <option value="">(default)</option>}
        {f.options?.map((o) => (
          <option key={String(o)} value={String(o)}>
            {String(o)}
          </option>
        ))}
      </select>
    )
  } else if (f.kind === 'json') {
    input = (
      <textarea
        {...common}
        rows={2}
        value={text}
        onInput={(e) => props.onChange((e.currentTarget as HTMLTextAreaElement).value)}
      />
    )
  } else {
    // Text, not type=number: what was typed reaches the check, which names the problem.
    const inputMode = f.kind === 'integer' ? 'numeric' : f.kind === 'number' ? 'decimal' : 'text'
    input = (
      <input
        {...common}
        type="text"
        inputMode={inputMode}
        value={text}
        onInput={(e) => props.onChange((e.currentTarget as HTMLInputElement).value)}
      />
    )
  }
  return (
    <div class="world-field">
      <label class="inline" for={id}>
        {f.name}
        {f.required ? <span aria-hidden="true"> *</span> : null}
      </label>
      {input}
      {hint ? (
        <span class="muted small" id={`${id}-hint`}>
          {hint}
        </span>
      ) : null}
      {error ? (
        <span class="field-error" id={`${id}-err`}>
          {f.name} {error}
        </span>
      ) : null}
    </div>
  )
}
