/**
 * @verisim/bus — everything that touches Redis Streams: key names, event ids,
 * the pipelined writer, the consumer-group reader, range reads, the epoch, and
 * finding a Redis to talk to.
 */

// Key names and ids
export * from './keys.js'
export * from './ids.js'

// Stream entries: writing, reading, ranges
export * from './entry.js'
export * from './writer.js'
export * from './reader.js'
export * from './range.js'
export * from './epoch.js'

// Control stream between gateways and the generator
export * from './control.js'

// Housekeeping: prefixes, consumer groups of dead instances, trimming
export * from './admin.js'
export * from './groups.js'

// History stored by the generator: keys, roll-up into points, diff, cached reader
export * from './history.js'

// Finding (or starting) a Redis
export * from './discovery.js'
