/**
 * Every Redis key name Verisim uses, built in one place. Keys of one world share
 * the hash tag `{<world>}` so a world lives on one Redis Cluster slot (one XREAD
 * can then span all its channels): the streams and control keys
 * (`createKeys`), the stored history (`historyKeys`) and gateway consumer
 * groups (`groupName`).
 */

export interface WorldKeys {
  readonly prefix: string
  readonly world: string
  /** `<prefix>:{<world>}:ch:<channel>` — the Redis Stream of one channel. */
  channel(channel: string): string
  /** Commands from gateways to the generator (a Redis Stream). */
  readonly control: string
  /** Id of the last control command the generator has taken. */
  readonly controlCursor: string
  /** The result of a command, kept so a repeated requestId gets it again. */
  controlResult(requestId: string): string
  /** Every applied command with the simulation time it took effect (a Redis Stream). */
  readonly controlLog: string
  /**
   * The run's latest engine snapshot (a hash: the engine's bytes, the control-log
   * id they cover, the world's config hash, …): a restart restores it and applies
   * only the control-log commands after that id.
   */
  readonly snapshot: string
  /** Current `SimulationState` JSON, written by the generator. */
  readonly state: string
  /** Stream catalog JSON (`StreamInfo[]`), written by the generator at start. */
  readonly catalog: string
  /** Scenario catalog JSON (`[{id, name, description, duration}]`), written by the generator at start. */
  readonly scenarios: string
  /**
   * External-event library JSON (`[{id, category, title, description, severity, icon,
   * redHerring, timing, expectedImpact}]`), written by the generator at start.
   */
  readonly templates: string
  /**
   * The running world as `GET /api/world` describes it (a hash: `json` the
   * `WorldDescription` JSON, `rev` a digest of it so readers can cache by it),
   * written by the generator at start and whenever the epoch changes.
   */
  readonly worldDescription: string
  /** Saved snapshots (issue 19): a hash, snapshot id → `SavedSnapshotMeta` JSON. */
  readonly savedSnapshots: string
  /** One saved snapshot's engine bytes. */
  savedSnapshot(id: string): string
  /** Counter of saved snapshot ids (`snap_<n>`). */
  readonly savedSnapshotSeq: string
  /** The run's timelines (a hash, timeline id → `TimelineRecord` JSON): the current one and those left by a restore or a travel. */
  readonly timelines: string
  /** `{epoch, firstId}`: changes whenever the stored streams were lost or replaced (a new timeline). */
  readonly epoch: string
  /** Last id the generator assigned (so a restarted generator never reuses one). */
  readonly lastId: string
  /** Heartbeat key of a gateway instance (expires when the instance dies). */
  gatewayHeartbeat(instanceId: string): string
  /** Prefix of all gateway heartbeat keys, for SCAN. */
  readonly gatewayHeartbeatPrefix: string
  /** SCAN pattern matching every channel stream of the world. */
  readonly channelPattern: string
  /**
   * BullMQ `prefix` option for the world's queues (BullMQ appends `:<queue>:…`);
   * hash-tagged like every other key of the world. Never an ioredis `keyPrefix`.
   */
  readonly bullPrefix: string
  /** `<prefix>:{<world>}:replay:<id>` — the stream a replay of the archive publishes on (topic `replay:<id>`). */
  replay(id: string): string
  /** Hash: a replay's status (state, sent, total, range, speed …). */
  replayStatus(id: string): string
  /** Sorted set of replay ids by creation time. */
  readonly replays: string
}

/** Lifetime of a gateway instance's heartbeat key; an instance without one is presumed dead. */
export const GATEWAY_HEARTBEAT_TTL_S = 15
/** How often a live gateway refreshes its heartbeat key. */
export const GATEWAY_HEARTBEAT_EVERY_MS = 5000

const GROUP_PREFIX = 'gw:'

/** Consumer group name of a gateway instance. */
export function groupName(instanceId: string): string {
  return `${GROUP_PREFIX}${instanceId}`
}

/** The instance id of a gateway consumer group, or `null` for a group no gateway made. */
export function instanceOfGroup(group: string): string | null {
  return group.startsWith(GROUP_PREFIX) && group.length > GROUP_PREFIX.length
    ? group.slice(GROUP_PREFIX.length)
    : null
}

/**
 * @example
 * const keys = createKeys('vs', 'tutoring')
 * keys.channel('customer') // 'vs:{tutoring}:ch:customer'
 */
export function createKeys(prefix: string, world: string): WorldKeys {
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix))
    throw new Error(`invalid key prefix ${JSON.stringify(prefix)}`)
  if (!/^[A-Za-z0-9_.-]+$/.test(world))
    throw new Error(`invalid world name ${JSON.stringify(world)}`)
  const base = `${prefix}:{${world}}`
  return {
    prefix,
    world,
    channel: (channel) => `${base}:ch:${channel}`,
    control: `${base}:control`,
    controlCursor: `${base}:control:cursor`,
    controlResult: (requestId) => `${base}:control:result:${requestId}`,
    controlLog: `${base}:control:log`,
    snapshot: `${base}:snapshot:latest`,
    savedSnapshots: `${base}:snapshot:saved`,
    savedSnapshot: (id) => `${base}:snapshot:saved:${id}`,
    savedSnapshotSeq: `${base}:snapshot:saved-seq`,
    timelines: `${base}:timelines`,
    state: `${base}:state`,
    catalog: `${base}:catalog`,
    scenarios: `${base}:scenarios`,
    templates: `${base}:templates`,
    worldDescription: `${base}:world`,
    epoch: `${base}:epoch`,
    lastId: `${base}:last-id`,
    gatewayHeartbeat: (instanceId) => `${base}:gw:${instanceId}:alive`,
    gatewayHeartbeatPrefix: `${base}:gw:`,
    channelPattern: `${base}:ch:*`,
    bullPrefix: `${base}:bull`,
    replay: (id) => `${base}:replay:${id}`,
    replayStatus: (id) => `${base}:replay:${id}:status`,
    replays: `${base}:replays`,
  }
}

/** The keys of the history the generator stores beside the streams (`hist:*`). */
export interface HistoryKeys {
  /** JSON `HistoryMeta`: what is stored and which version is served. */
  readonly meta: string
  /** JSON `HistoryDoc` of one version (0 = baseline). */
  doc(version: number): string
  /** JSON `HistoryStats`: baseline statistics per interval and stream. */
  readonly stats: string
  /** JSON array of `HistoryExternalEvent`. */
  readonly events: string
  /** Hash of one live 15-minute bucket: `<stream>` = count, `<stream>:v` = sum of primary values. */
  live(bucketStartMs: number): string
  /** SCAN pattern matching every live bucket hash. */
  readonly livePattern: string
}

/**
 * @example
 * const hk = historyKeys(createKeys('vs', 'tutoring'))
 * hk.doc(0) // 'vs:{tutoring}:hist:v:0'
 * hk.live(1732348800000) // 'vs:{tutoring}:hist:live:1732348800000'
 */
export function historyKeys(keys: WorldKeys): HistoryKeys {
  const base = `${keys.prefix}:{${keys.world}}:hist`
  return {
    meta: `${base}:meta`,
    doc: (version) => `${base}:v:${version}`,
    stats: `${base}:stats`,
    events: `${base}:events`,
    live: (bucketStartMs) => `${base}:live:${bucketStartMs}`,
    livePattern: `${base}:live:*`,
  }
}
