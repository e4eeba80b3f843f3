/** The archiver as a library (tests, benchmarks): its read loop and settings. */
export * from './ingest.js'
export * from './config.js'
