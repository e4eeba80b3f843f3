/**
 * @verisim/cli — the `verisim` command line, and the pieces it is built of for
 * programs that want them (generating a run's events without any server).
 */
export { main, buildProgram, VERSION } from './program.js'
export { CliFailure, UsageError } from './errors.js'
export type { Io } from './io.js'
export { GENERATE_NODE_FLAGS, flagsToRerunWith, rerunWithFlags } from './lib/heap.js'
