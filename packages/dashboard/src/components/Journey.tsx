/**
 * Journeys: every entity id an event names (the log's and the journey's own
 * rows) opens the dialog of that entity's journey from the archive: how many
 * events and over what time, the world's milestones, its events oldest first
 * (milestones marked where they happened, a filter by type, more pages on
 * demand), and what acted on the world meanwhile (external events, control
 * commands). An archive that is off says so in the dialog.
 */
import { Fragment } from 'preact'
import { useEffect, useMemo, useRef } from 'preact/hooks'
import {
  archiveMessage,
  contextLabel,
  dataSummary,
  entityIdsOf,
  JOURNEY_PAGE,
  markMilestones,
  shownTotal,
  toggleType,
  type Journey,
  type JourneyView,
} from '../lib/archive.js'
import { formatDuration, formatSimTime } from '../lib/format.js'
import { readSeverity } from '../lib/model.js'
import { useSignal } from '../lib/signal.js'
import { useApp } from './context.js'
import { FlagDot, SeverityIcon } from './icons.js'

const utc = (iso: string) => `${formatSimTime(Date.parse(iso))} UTC`
const n = (x: number) => x.toLocaleString('en')

/** The world's declared entity fields (`GET /api/world`); undefined: every `…Id` field. */
export function useEntityFields(): readonly string[] | undefined {
  const world = useSignal(useApp().world)
  return world.status === 'ok' ? world.data.entityFields : undefined
}

/**
 * An entity id that opens its journey. `current` (the dialog's own entity) is
 * shown plain; `fromDialog` lets Back return to the entity shown before.
 */
export function EntityLink(props: { id: string; current?: string; fromDialog?: boolean }) {
  const app = useApp()
  if (props.id === props.current) return <strong class="entity-self">{props.id}</strong>
  return (
    <button
      type="button"
      class="link entity-link"
      data-testid="entity-link"
      data-entity={props.id}
      title={`Journey of ${props.id}`}
      onClick={(e) => {
        // inside a log row's <summary>: open the journey, not the row's JSON
        e.preventDefault()
        e.stopPropagation()
        void app.journeys.open(props.id, props.fromDialog === true)
      }}
    >
      {props.id}
    </button>
  )
}

/** An event's data in one line (`key=value …`), its entity ids as links. */
export function DataSummary(props: {
  data: unknown
  fields: readonly string[] | undefined
  current?: string
  fromDialog?: boolean
}) {
  const parts = dataSummary(props.data, props.fields)
  if (parts.length === 0) return <>…</>
  return (
    <>
      {parts.map((p, i) => (
        <Fragment key={p.key}>
          {i > 0 ? ' ' : ''}
          {p.key}=
          {p.ids.length === 0
            ? p.text
            : p.ids.map((id, j) => (
                <Fragment key={id}>
                  {j > 0 ? ',' : ''}
                  <EntityLink id={id} current={props.current} fromDialog={props.fromDialog} />
                </Fragment>
              ))}
        </Fragment>
      ))}
    </>
  )
}

/**
 * Every entity id of an event's data as links, on a line of its own: an
 * expanded log row's, where the one-line summary may be cut short.
 */
export function EntityLinks(props: { data: unknown; fields: readonly string[] | undefined }) {
  const ids = entityIdsOf(props.data, props.fields)
  if (ids.length === 0) return null
  return (
    <p class="entity-links small">
      Journey of{' '}
      {ids.map((id, i) => (
        <Fragment key={id}>
          {i > 0 ? ' · ' : ''}
          <EntityLink id={id} />
        </Fragment>
      ))}
    </p>
  )
}

/** The journey dialog: open while `app.journey` holds an entity. */
export function JourneyDialog() {
  const app = useApp()
  const view = useSignal(app.journey)
  const dialog = useRef<HTMLDialogElement>(null)
  const open = view !== null
  useEffect(() => {
    const d = dialog.current
    if (!d) return
    if (open && !d.open) d.showModal()
    else if (!open && d.open) d.close()
  }, [open])
  return (
    <dialog
      ref={dialog}
      class="modal journey"
      id="journey-dialog"
      data-testid="journey-panel"
      data-entity={view?.entityId}
      data-status={view?.status}
      aria-labelledby="journey-h"
      onClose={() => app.journeys.close()}
    >
      {view ? <JourneyBody view={view} /> : null}
    </dialog>
  )
}

function JourneyBody({ view }: { view: JourneyView }) {
  const app = useApp()
  const j = view.journey
  const prev = view.trail.at(-1)
  const failed = view.status === 'off' || view.status === 'unavailable' || view.status === 'error'
  return (
    <div class="journey-body">
      <div class="row spread">
        <h2 id="journey-h">
          Journey of <code>{view.entityId}</code>
        </h2>
        <div class="row">
          {prev !== undefined ? (
            <button
              type="button"
              class="small"
              id="journey-back"
              onClick={() => void app.journeys.back()}
            >
              ← {prev}
            </button>
          ) : null}
          <button
            type="button"
            class="small"
            id="journey-close"
            aria-label="Close the journey"
            onClick={() => app.journeys.close()}
          >
            Close
          </button>
        </div>
      </div>
      {view.status === 'loading' && !j ? (
        <p class="empty" role="status">
          Loading the journey of {view.entityId} from the archive…
        </p>
      ) : null}
      {view.status === 'off' ? (
        <p class="empty unavailable" id="journey-off" data-archive-off role="status">
          {archiveMessage({ kind: 'off', message: view.message ?? '' })}
        </p>
      ) : null}
      {view.status === 'unavailable' ? (
        <p class="empty unavailable" data-unavailable role="status">
          Journeys not available on this server (the archive endpoints are not served by this
          gateway version).
        </p>
      ) : null}
      {view.status === 'error' ? (
        <p class="empty error" id="journey-error" role="alert">
          Could not load the journey: {view.message}{' '}
          <button type="button" class="link" onClick={() => void app.journeys.reload()}>
            Retry
          </button>
        </p>
      ) : null}
      {j && !failed ? <JourneyContent view={view} j={j} /> : null}
    </div>
  )
}

function JourneyContent({ view, j }: { view: JourneyView; j: Journey }) {
  const app = useApp()
  const fields = useEntityFields()
  const rows = useMemo(() => markMilestones(j.events, j.milestones), [j])
  const loaded = useMemo(() => new Set(j.events.map((e) => e.id)), [j])
  const all = useMemo(() => j.streams.map((s) => s.stream), [j])
  const checked = view.types.length === 0 ? all : view.types
  const covered = shownTotal(j, view.types)
  const first = j.first ? Date.parse(j.first) : Number.NaN
  const last = j.last ? Date.parse(j.last) : Number.NaN
  const reloading = view.status === 'loading'

  if (j.total === 0) {
    return (
      <p class="empty" id="journey-empty">
        No archived event names {view.entityId} on this timeline. The archive follows the streams a
        few seconds behind: an entity that just appeared may not be there yet.
      </p>
    )
  }

  const show = (eventId: string) => {
    const el = document.getElementById(`journey-ev-${eventId}`)
    el?.scrollIntoView({ block: 'center', behavior: 'smooth' })
    el?.focus({ preventScroll: true })
  }

  return (
    <>
      <dl class="facts journey-facts" id="journey-facts">
        <div>
          <dt>Events</dt>
          <dd data-total={j.total}>{n(j.total)}</dd>
        </div>
        <div>
          <dt>First (UTC)</dt>
          <dd>{formatSimTime(first)}</dd>
        </div>
        <div>
          <dt>Last (UTC)</dt>
          <dd>{formatSimTime(last)}</dd>
        </div>
        <div>
          <dt>Over</dt>
          <dd>{formatDuration(last - first)}</dd>
        </div>
      </dl>

      <h3 id="journey-ms-h">Milestones</h3>
      {j.milestones.length === 0 ? (
        <p class="empty small">None reached (or the world declares none).</p>
      ) : (
        <ol class="plain journey-milestones" aria-labelledby="journey-ms-h">
          {j.milestones.map((m) => (
            <li
              key={`${m.name}-${m.eventId}`}
              data-testid="journey-milestone"
              data-milestone={m.name}
              data-event-id={m.eventId}
            >
              <span class="pill journey-pill">{m.label}</span>{' '}
              <span class="nowrap">{utc(m.at)}</span> <code>{m.stream}</code>
              {loaded.has(m.eventId) ? (
                <button type="button" class="link small" onClick={() => show(m.eventId)}>
                  show
                </button>
              ) : null}
            </li>
          ))}
        </ol>
      )}

      <fieldset class="journey-types" id="journey-types">
        <legend>Event types</legend>
        {j.streams.map((s) => {
          const on = checked.includes(s.stream)
          return (
            <label key={s.stream} class="journey-type">
              <input
                type="checkbox"
                data-stream={s.stream}
                checked={on}
                // the last type checked stays: the filter never asks for nothing
                disabled={on && checked.length === 1}
                onChange={() => void app.journeys.filter(toggleType(view.types, s.stream, all))}
              />
              <code>{s.stream}</code> <span class="muted">{n(s.count)}</span>
            </label>
          )
        })}
        {view.types.length > 0 ? (
          <button type="button" class="link small" onClick={() => void app.journeys.filter([])}>
            all types
          </button>
        ) : null}
      </fieldset>

      <div class="journey-grid">
        <div class="journey-main">
          <h3 id="journey-ev-h">
            Events <span class="muted small">oldest first</span>
          </h3>
          {reloading ? (
            <p class="muted small" role="status">
              Loading…
            </p>
          ) : null}
          {rows.length === 0 && !reloading ? (
            <p class="empty">No event of the chosen types.</p>
          ) : (
            <ol
              class="journey-timeline"
              aria-labelledby="journey-ev-h"
              aria-busy={reloading}
              data-count={rows.length}
            >
              {rows.map(({ event: e, milestones }) => (
                <li
                  key={e.id}
                  id={`journey-ev-${e.id}`}
                  tabIndex={-1}
                  class={milestones.length > 0 ? 'is-milestone' : undefined}
                  data-testid="journey-event"
                  data-event-id={e.id}
                  data-stream={e.stream}
                  data-milestone={
                    milestones.length > 0 ? milestones.map((m) => m.name).join(' ') : undefined
                  }
                >
                  <div class="row">
                    <span class="nowrap journey-time">
                      {formatSimTime(Date.parse(e.timestamp))}
                    </span>
                    <code>{e.stream}</code>
                    {e.anomalyFlag !== 'normal' ? <FlagDot flag={e.anomalyFlag} /> : null}
                    {milestones.map((m) => (
                      <span key={m.name} class="pill journey-pill" title={`Milestone: ${m.name}`}>
                        {m.label}
                      </span>
                    ))}
                  </div>
                  <div class="small journey-data">
                    <DataSummary data={e.data} fields={fields} current={view.entityId} fromDialog />
                  </div>
                </li>
              ))}
            </ol>
          )}
          <div class="row">
            <span class="muted small" id="journey-shown">
              {n(j.events.length)} of {n(covered)} events
              {view.types.length > 0 ? ' of the chosen types' : ''} shown.
            </span>
            {j.nextCursor ? (
              <button
                type="button"
                class="small"
                id="journey-more"
                data-testid="journey-more"
                disabled={view.more || reloading}
                aria-busy={view.more}
                onClick={() => void app.journeys.more()}
              >
                {view.more
                  ? 'Loading…'
                  : `Load ${n(Math.min(JOURNEY_PAGE, Math.max(1, covered - j.events.length)))} more`}
              </button>
            ) : null}
          </div>
          {view.moreError ? (
            <p class="field-error" role="alert">
              {view.moreError}{' '}
              <button type="button" class="link" onClick={() => void app.journeys.more()}>
                Retry
              </button>
            </p>
          ) : null}
        </div>
        <aside class="journey-context" aria-labelledby="journey-ctx-h">
          <h3 id="journey-ctx-h">Meanwhile</h3>
          <p class="muted small">
            External events and control commands between its first and last event.
          </p>
          {j.context.length === 0 ? (
            <p class="empty small">Nothing acted on the world meanwhile.</p>
          ) : (
            <ul class="plain small" data-testid="journey-context">
              {j.context.map((e) => (
                <li key={e.id} data-channel={e.channel} data-event-id={e.id}>
                  <span class="nowrap muted">{formatSimTime(Date.parse(e.timestamp))}</span>{' '}
                  {e.channel === 'external' ? (
                    <SeverityIcon severity={readSeverity(e.data.severity)} size={12} />
                  ) : null}{' '}
                  {contextLabel(e)}
                </li>
              ))}
            </ul>
          )}
          {j.context.length >= 100 ? <p class="muted small">The first 100 of the span.</p> : null}
        </aside>
      </div>
    </>
  )
}
