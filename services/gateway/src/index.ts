/** The gateway as a library (benchmarks, embedding): build the Fastify app from settings. */
export { buildApp, type GatewayApp } from './app.js'
export { loadConfig, ConfigError, type GatewayConfig } from './config.js'
