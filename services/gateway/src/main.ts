/**
 * Gateway entry point: settings, app, listen; stop cleanly on SIGINT/SIGTERM
 * (clients are closed with 1001 and can resume elsewhere).
 */
import { pino } from 'pino'
import { buildApp } from './app.js'
import { loadConfig } from './config.js'

async function main(): Promise<void> {
  const config = loadConfig()
  const log = pino({ level: config.logLevel, base: { svc: 'gateway' } })
  if (config.adminToken === null) {
    log.warn(
      'ADMIN_TOKEN is not set: control endpoints and messages are open to anyone who can reach this port',
    )
  }
  const app = await buildApp(config, log)
  let stopping: Promise<void> | null = null
  const stop = (signal: string) => {
    stopping ??= (async () => {
      log.info({ signal }, 'stopping gateway')
      await app.close()
      log.info('gateway stopped')
    })()
    return stopping
  }
  process.once('SIGINT', () => void stop('SIGINT').then(() => process.exit(0)))
  process.once('SIGTERM', () => void stop('SIGTERM').then(() => process.exit(0)))
  await app.listen({ port: config.port, host: config.host })
  log.info(
    { instance: config.instanceId, port: config.port, world: config.world },
    'gateway listening',
  )
}

main().catch((err: unknown) => {
  const e = err as Error & { code?: string }
  process.stderr.write(`gateway failed to start: ${e.code ? `[${e.code}] ` : ''}${e.message}\n`)
  process.exit(1)
})
