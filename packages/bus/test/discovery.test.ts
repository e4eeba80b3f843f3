import { spawn } from 'node:child_process'
import { accessSync, constants as fsConstants, existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { discoverRedis, RedisUnavailableError, type RedisHandle } from '../src/discovery.js'

const PATH = process.env.PATH ?? ''
const hasRedisServer = PATH.split(delimiter).some((dir) => {
  try {
    accessSync(join(dir, 'redis-server'), fsConstants.X_OK)
    return true
  } catch {
    return false
  }
})
const builtDiscovery = fileURLToPath(new URL('../dist/discovery.js', import.meta.url))
const dockerMayBeThere = Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock')

/** A loopback port nobody listens on: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 1))
    })
  })
}

async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    return (await client.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return check()
}

describe('discoverRedis', () => {
  // A Redis found the ordinary way, used as "a Redis that answers" below.
  let live: RedisHandle
  let nowhere: string

  beforeAll(async () => {
    live = await discoverRedis({ allowContainer: true })
    nowhere = `redis://127.0.0.1:${await closedPort()}`
  }, 120_000)

  afterAll(async () => {
    await live?.stop()
  })

  it('should use REDIS_URL when it answers PING', async () => {
    const logs: string[] = []
    const handle = await discoverRedis({
      env: { REDIS_URL: live.url, PATH: '' },
      defaultUrl: nowhere,
      log: (msg) => logs.push(msg),
    })
    expect(handle.source).toBe('env')
    expect(handle.url).toBe(live.url)
    expect(logs.join('\n')).toContain('REDIS_URL')
    await handle.stop()
    await handle.stop()
    expect(await answers(live.url)).toBe(true)
  })

  it('should fail clearly, without falling back, when REDIS_URL does not answer', async () => {
    const port = new URL(nowhere).port
    const attempt = discoverRedis({
      env: { REDIS_URL: `redis://:s3cret@127.0.0.1:${port}`, PATH },
      defaultUrl: live.url,
    })
    await expect(attempt).rejects.toBeInstanceOf(RedisUnavailableError)
    const err = (await attempt.catch((e: unknown) => e)) as RedisUnavailableError
    expect(err.code).toBe('VS_BUS_REDIS_UNAVAILABLE')
    expect(err.reason).toBe('redis_url_unreachable')
    expect(err.canRetry).toBe(true)
    expect(err.message).toContain(`REDIS_URL is set to redis://:***@127.0.0.1:${port}`)
    expect(err.message).toContain('ECONNREFUSED')
    expect(err.message).not.toContain('s3cret')
  })

  it('should use the default address when REDIS_URL is unset and it answers PING', async () => {
    const handle = await discoverRedis({ env: { PATH: '' }, defaultUrl: live.url })
    expect(handle).toMatchObject({ source: 'default', url: live.url })
    await handle.stop()
    expect(await answers(live.url)).toBe(true)
  })

  it('should treat an empty REDIS_URL as unset', async () => {
    const handle = await discoverRedis({ env: { REDIS_URL: ' ', PATH: '' }, defaultUrl: live.url })
    expect(handle.source).toBe('default')
  })

  it.skipIf(!hasRedisServer)(
    'should start redis-server from PATH when nothing answers, and stop it on stop()',
    async () => {
      const logs: string[] = []
      const handle = await discoverRedis({
        env: { PATH },
        defaultUrl: nowhere,
        log: (msg) => logs.push(msg),
      })
      expect(handle.source).toBe('spawned')
      expect(handle.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/)
      expect(handle.url).not.toBe(live.url)

      const client = new Redis(handle.url, { lazyConnect: true })
      await client.connect()
      // No persistence: nothing of a run is left on disk.
      expect(await client.config('GET', 'save')).toEqual(['save', ''])
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no'])
      expect(await client.config('GET', 'bind')).toEqual(['bind', '127.0.0.1'])
      client.disconnect()

      await Promise.all([handle.stop(), handle.stop()])
      await handle.stop()
      expect(await answers(handle.url)).toBe(false)
      expect(logs.some((msg) => msg.includes('started'))).toBe(true)
      expect(logs.some((msg) => msg.includes('stopped'))).toBe(true)
    },
    30_000,
  )

  it.skipIf(!hasRedisServer || !existsSync(builtDiscovery))(
    'should not leave a spawned redis-server behind when its process is killed',
    async () => {
      // A separate Node process discovers (spawns) Redis, reports the URL, and is
      // then SIGKILLed, so neither stop() nor any exit handler runs. Uses the built
      // module (dist/), since plain Node cannot import the .ts source.
      const script = `
        const { discoverRedis } = await import(${JSON.stringify(builtDiscovery)})
        const handle = await discoverRedis({ env: { PATH: process.env.PATH }, defaultUrl: ${JSON.stringify(nowhere)} })
        console.log(handle.url)
        setInterval(() => {}, 1000)
      `
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding('utf8')
        child.stdout.once('data', (line: string) => resolve(line.trim()))
        child.once('exit', (code) => reject(new Error(`child exited early (${code})`)))
      })
      expect(await answers(url)).toBe(true)
      child.kill('SIGKILL')
      expect(await waitUntil(async () => !(await answers(url)), 5000)).toBe(true)
    },
    30_000,
  )

  it('should name the ways to get Redis when nothing works', async () => {
    const attempt = discoverRedis({ env: { PATH: '' }, defaultUrl: nowhere })
    await expect(attempt).rejects.toBeInstanceOf(RedisUnavailableError)
    const err = (await attempt.catch((e: unknown) => e)) as RedisUnavailableError
    expect(err.code).toBe('VS_BUS_REDIS_UNAVAILABLE')
    expect(err.reason).toBe('no_redis')
    expect(err.canRetry).toBe(false)
    expect(err.message).toContain('no redis-server on PATH')
    expect(err.message).toContain('REDIS_URL')
    expect(err.message).toContain('127.0.0.1:6379')
    expect(err.message).toContain('apt-get install redis-server')
    expect(err.message).toContain('`redis-server` on PATH')
    expect(err.message).toContain('Docker')
  })

  it.skipIf(dockerMayBeThere)(
    'should report the missing Docker engine when a container is allowed but cannot start',
    async () => {
      const attempt = discoverRedis({
        env: { PATH: '' },
        defaultUrl: nowhere,
        allowContainer: true,
      })
      await expect(attempt).rejects.toBeInstanceOf(RedisUnavailableError)
      const err = (await attempt.catch((e: unknown) => e)) as RedisUnavailableError
      expect(err.message).toContain('no Redis container')
    },
    60_000,
  )
})
