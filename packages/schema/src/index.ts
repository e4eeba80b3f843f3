/**
 * @verisim/schema — TypeBox schemas and their static types shared by every
 * package and service: the event envelope, WebSocket/SSE messages and the world
 * configuration.
 */

// Event envelope and stream catalog
export * from './event.js'

// The stream signal behind normalizedValue, anomalyFlag and history's normalized
export * from './signal.js'

// WebSocket protocol messages and topics
export * from './messages.js'
export * from './topics.js'

// Validation helpers
export * from './validate.js'

// Stream patterns (`*`, `<prefix>.*`, exact name) and ISO 8601 durations
export * from './patterns.js'
export * from './durations.js'

// World configuration (config/worlds/<world>/*.json)
export * from './world.js'

// The running world as GET /api/world describes it, and world actions
export * from './world-description.js'

// Control plane: commands, acknowledgements, simulation state
export * from './control.js'
export * from './state.js'

// Settings from the environment
export * from './env.js'

// Snapshots, restore and time travel
export * from './time-travel.js'
