/**
 * @verisim/bus — everything that touches Redis Streams: key names, event ids,
 * the pipelined writer, the consumer-group reader, range reads, the epoch, the
 * stored history, and finding a Redis to talk to.
 */

// Key names and ids
export * from './keys.js'
export * from './ids.js'
export * from './envelope.js'

// Stream entries: writing, reading, ranges
export * from './entry.js'
export * from './writer.js'
export * from './reader.js'
export * from './range.js'
export * from './epoch.js'

// Control stream between gateways and the generator, and the run's engine snapshot
export * from './control.js'
export * from './snapshot.js'
export * from './saved-snapshots.js'

// The running world's description (GET /api/world)
export * from './world.js'

// Housekeeping: prefixes, consumer groups of dead instances, trimming
export * from './admin.js'
export * from './groups.js'

// History stored by the generator: stored shapes, errors, the pure read model
// (ranges, roll-up into points, statistics, diff) and the cached Redis reader
export * from './history/stored.js'
export * from './history/errors.js'
export * from './history/model.js'
export * from './history/reader.js'

// Finding (or starting) a Redis
export * from './discovery.js'
