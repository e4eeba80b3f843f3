/**
 * Scenarios: definitions (compile), settlement curves (settle), manual modifiers
 * (adjust) and the controller that runs them in the engine (controller).
 */
export * from './types.js'
export * from './compile.js'
export * from './settle.js'
export * from './adjust.js'
export * from './controller.js'
