/**
 * Snapshots, restore and time travel (issue 19): what the generator stores and
 * answers, shared by the bus (which stores it), the gateway and the SDK.
 */
/** Why a snapshot was saved. */
export type SavedSnapshotKind =
  /** The run's start (taken by the generator; restoring it starts the run over with the same seed). */
  | 'origin'
  /** Asked for: `POST /api/simulation/snapshot`. */
  | 'manual'
  /** Where a timeline was left by a restore or a travel: restoring it goes back to that line. */
  | 'branch'

export interface SavedSnapshotMeta {
  /** `snap_<n>`. */
  id: string
  name: string
  description: string
  kind: SavedSnapshotKind
  /** Simulation time it holds (ISO 8601). */
  simulatedTime: string
  /** Wall time it was taken (ISO 8601). */
  createdAt: string
  /** Its bytes (gzipped JSON). */
  sizeBytes: number
  /** The timeline it was taken on (`tl_<n>`). */
  timeline: string
  /** Commands of the run it holds (world actions, scenarios, injections …). */
  commands: number
}

/** A command a timeline had, as its list shows it. */
export interface TimelineCommand {
  action: string
  /** Simulation time it took effect (ISO 8601). */
  simulatedTime: string
  /** Its arguments (scenario id, modifier, event, action payload …). */
  detail: Record<string, unknown>
}

export interface TimelineRecord {
  /** `tl_<n>`; `n` counts the run's timelines from 1. */
  id: string
  number: number
  /** The timeline it branched from (null for the run's first). */
  parent: string | null
  reason: 'start' | 'restore' | 'travel'
  /** Simulation time it began at (the run's start, the snapshot's time or the travel's target; ISO 8601). */
  forkedAt: string
  /** Wall time it began (ISO 8601). */
  createdAt: string
  /** The snapshot restored to begin it (reason `restore`). */
  restoredFrom?: string
  /** Set once left: the simulation time it had reached, the wall time, and the snapshot saved there (restore it to go back). */
  leftAt?: string
  leftAtWall?: string
  returnSnapshot?: string
  /** Its commands after `forkedAt` (the ones before are its parent's), oldest first; filled in when it is left. */
  commands: TimelineCommand[]
}

/** The current timeline as the simulation state reports it (`timeline`). */
export type TimelineInfo = Pick<TimelineRecord, 'id' | 'number' | 'parent' | 'reason' | 'forkedAt'>

/** `GET /api/simulation/snapshots` (WS `list_snapshots`). */
export interface SnapshotList {
  snapshots: SavedSnapshotMeta[]
  /** Saved snapshots kept at most (`VERISIM_SNAPSHOTS_MAX`). */
  maxSaved: number
  storage: 'redis'
  /** The automatic snapshots time travel starts from (in the generator's memory). */
  automatic: {
    storage: string
    everyHours: number
    count: number
    sizeBytes: number
    times: string[]
  }
  timeline: TimelineInfo
}

/** The answer to a restore or a travel (not a dry run): the new timeline. */
export interface TimelineSwitch {
  timeline: TimelineRecord
  /** The timeline left, and the snapshot that goes back to it. */
  left: { id: string; leftAt: string; returnSnapshot: string }
  /** The streams' new epoch. */
  epoch: string
  currentSimulationTime: string
  paused: boolean
  /** Simulation time of the snapshot it started from, and the commands replayed after it. */
  from: string
  replayed: number
  tookMs: number
}

/** `POST /api/simulation/travel` with `dryRun: true`: the moment, previewed; nothing switched. */
export interface TravelPreview {
  dryRun: true
  targetTime: string
  from: string
  replayed: number
  tookMs: number
  state: {
    currentSimulationTime: string
    stats: Record<string, unknown>
    scenario: unknown
    activeModifiers: unknown[]
    activeEvents: unknown[]
    anomalousStreams: { stream: string; flag: string; z: number; count: number; expected: number }[]
  }
  /** Events of the run within `windowMs` either side of the target (at most 200 each, the closest). */
  events: { before: Record<string, unknown>[]; after: Record<string, unknown>[] }
  windowMs: number
}

/** `GET /api/simulation/timelines`: the current timeline first, then those left, newest first. */
export interface TimelineList {
  current: string
  timelines: TimelineRecord[]
}
