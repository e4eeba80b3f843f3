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

// Housekeeping
export * from './admin.js'

// Finding (or starting) a Redis
export * from './discovery.js'
