/**
 * Every Redis key name Verisim uses, built in one place. Keys of one world share
 * the hash tag `{<world>}` so a world lives on one Redis Cluster slot (one XREAD
 * can then span all its channels).
 */

export interface WorldKeys {
  readonly prefix: string
  readonly world: string
  /** `<prefix>:{<world>}:ch:<channel>` — the Redis Stream of one channel. */
  channel(channel: string): string
  /** Commands from gateways to the generator. */
  readonly control: string
  /** Current `SimulationState` JSON, written by the generator. */
  readonly state: string
  /** Stream catalog JSON (`StreamInfo[]`), written by the generator at start. */
  readonly catalog: string
  /** `{epoch, firstId}`: changes whenever the stored streams were lost. */
  readonly epoch: string
  /** Last id the generator assigned (so a restarted generator never reuses one). */
  readonly lastId: string
  /** Heartbeat key of a gateway instance (expires when the instance dies). */
  gatewayHeartbeat(instanceId: string): string
  /** Prefix of all gateway heartbeat keys, for SCAN. */
  readonly gatewayHeartbeatPrefix: string
}

/** Consumer group name of a gateway instance. */
export function groupName(instanceId: string): string {
  return `gw:${instanceId}`
}

/**
 * @example
 * const keys = createKeys('vs', 'tutoring')
 * keys.channel('customer') // 'vs:{tutoring}:ch:customer'
 */
export function createKeys(prefix: string, world: string): WorldKeys {
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new Error(`invalid key prefix ${JSON.stringify(prefix)}`)
  if (!/^[A-Za-z0-9_.-]+$/.test(world)) throw new Error(`invalid world name ${JSON.stringify(world)}`)
  const base = `${prefix}:{${world}}`
  return {
    prefix,
    world,
    channel: (channel) => `${base}:ch:${channel}`,
    control: `${base}:control`,
    state: `${base}:state`,
    catalog: `${base}:catalog`,
    epoch: `${base}:epoch`,
    lastId: `${base}:last-id`,
    gatewayHeartbeat: (instanceId) => `${base}:gw:${instanceId}:alive`,
    gatewayHeartbeatPrefix: `${base}:gw:`,
  }
}
