/**
 * Catches mistakes in docker-compose.yml, the Dockerfiles and the Prometheus
 * config without a Docker engine: `docker compose config` (or the standalone
 * `docker-compose`) validates and normalises the compose file, and the assertions
 * check what `docker compose up` relies on — health checks and `depends_on`
 * conditions.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

const root = fileURLToPath(new URL('../../../', import.meta.url))

interface ComposeCli {
  command: string
  prefix: string[]
  /** Compose v2 (the `docker compose` plugin) prints JSON on request; v1 prints YAML only. */
  json: boolean
}

function findComposeCli(): ComposeCli | undefined {
  const works = (command: string, args: string[]): boolean =>
    spawnSync(command, args, { stdio: 'ignore', timeout: 20_000 }).status === 0
  if (works('docker', ['compose', 'version']))
    return { command: 'docker', prefix: ['compose'], json: true }
  if (works('docker-compose', ['version']))
    return { command: 'docker-compose', prefix: [], json: false }
  return undefined
}

const cli = findComposeCli()

function compose(args: string[]): string {
  if (!cli) throw new Error('no compose CLI')
  const result = spawnSync(cli.command, [...cli.prefix, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  })
  if (result.status !== 0) {
    throw new Error(
      `${cli.command} ${[...cli.prefix, ...args].join(' ')} failed:\n${result.stderr}`,
    )
  }
  return result.stdout
}

interface Service {
  image?: string
  volumes?: Array<{ source?: string; target: string } | string>
  build?: { context: string; dockerfile: string }
  environment?: Record<string, string | number | null>
  healthcheck?: { test?: string[] | string }
  depends_on?: Record<string, { condition?: string }>
  ports?: Array<{ target: number | string; published?: number | string }>
  profiles?: string[]
}

function config(profiles: string[] = []): { services: Record<string, Service> } {
  const args = [...profiles.flatMap((p) => ['--profile', p]), 'config']
  return parse(compose(cli?.json ? [...args, '--format', 'json'] : args)) as {
    services: Record<string, Service>
  }
}

function healthTest(service: Service | undefined): string {
  const test = service?.healthcheck?.test
  return Array.isArray(test) ? test.join(' ') : (test ?? '')
}

if (!cli) {
  console.warn(
    'compose.test.ts: skipping the `docker compose config` checks: neither `docker compose` ' +
      '(Docker CLI compose plugin) nor `docker-compose` is installed.',
  )
}

describe.skipIf(!cli)(
  `docker-compose.yml (checked with ${cli ? cli.command : 'no compose CLI'})`,
  () => {
    it('compose config should accept the file', () => {
      compose(['config', '-q'])
      compose(['--profile', 'monitoring', 'config', '-q'])
    })

    it('compose should run redis, postgres, generator, gateway and archiver by default, monitoring only on request', () => {
      const { services } = config(['monitoring'])
      expect(Object.keys(services).sort()).toEqual([
        'archiver',
        'gateway',
        'generator',
        'grafana',
        'postgres',
        'prometheus',
        'redis',
      ])
      // (compose v1 prints every service whatever the profile, so the profiles are
      // checked on the services rather than by what `config` lists)
      for (const name of ['redis', 'postgres', 'generator', 'gateway', 'archiver'])
        expect(services[name]?.profiles).toBeUndefined()
      for (const name of ['prometheus', 'grafana'])
        expect(services[name]?.profiles).toEqual(['monitoring'])
    })

    it('compose services should all have health checks', () => {
      const { services } = config()
      expect(services.redis?.image).toMatch(/^redis:7/)
      expect(healthTest(services.redis)).toContain('redis-cli ping')
      expect(healthTest(services.generator)).toContain('http://127.0.0.1:8081/health/ready')
      expect(healthTest(services.gateway)).toContain('http://127.0.0.1:8080/health/ready')
      expect(services.postgres?.image).toMatch(/^postgres:15/)
      expect(healthTest(services.postgres)).toContain('pg_isready')
      expect(healthTest(services.archiver)).toContain('http://127.0.0.1:8082/health/ready')
    })

    it('compose should start each service only once what it needs is healthy', () => {
      const { services } = config()
      expect(services.generator?.depends_on?.redis?.condition).toBe('service_healthy')
      expect(services.gateway?.depends_on?.redis?.condition).toBe('service_healthy')
      expect(services.gateway?.depends_on?.generator?.condition).toBe('service_healthy')
      expect(services.archiver?.depends_on?.redis?.condition).toBe('service_healthy')
      expect(services.archiver?.depends_on?.postgres?.condition).toBe('service_healthy')
      expect(services.gateway?.depends_on?.postgres?.condition).toBe('service_healthy')
    })

    it('compose should build each service from its Dockerfile and wire it to the redis service', () => {
      const { services } = config()
      expect(services.generator?.build?.dockerfile).toBe('Dockerfile.generator')
      expect(services.gateway?.build?.dockerfile).toBe('Dockerfile.gateway')
      expect(services.archiver?.build?.dockerfile).toBe('Dockerfile.archiver')
      for (const name of ['generator', 'gateway', 'archiver']) {
        expect(services[name]?.environment?.REDIS_URL).toBe('redis://redis:6379')
      }
      expect(services.generator?.environment?.VERISIM_CONFIG_DIR).toBe('/app/config/worlds')
      expect(services.gateway?.ports?.map((p) => Number(p.target))).toEqual([8080])
      // Only the gateway is published; the stores and the workers stay on the compose network.
      for (const name of ['redis', 'postgres', 'generator', 'archiver'])
        expect(services[name]?.ports ?? []).toEqual([])
    })

    it('compose should wire the archiver and the gateway to the postgres service, whose data outlives the container', () => {
      const { services } = config()
      const { POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB } = services.postgres?.environment ?? {}
      const url = `postgres://${POSTGRES_USER}:${POSTGRES_PASSWORD}@postgres:5432/${POSTGRES_DB}`
      expect(url).toBe('postgres://postgres:verisim@postgres:5432/verisim')
      for (const name of ['archiver', 'gateway']) {
        expect(services[name]?.environment?.DATABASE_URL).toBe(url)
        expect(services[name]?.environment?.ARCHIVE_SCHEMA).toBe('public')
      }
      expect(String(services.archiver?.environment?.ARCHIVER_PORT)).toBe('8082')
      const volumes = (services.postgres?.volumes ?? []).map((v) =>
        typeof v === 'string' ? v : `${v.source}:${v.target}`,
      )
      expect(
        volumes.some((v) => /^postgres-data:\/var\/lib\/postgresql\/data(:rw)?$/.test(v)),
      ).toBe(true)
    })
  },
)

describe('Dockerfiles', () => {
  for (const [name, port] of [
    ['generator', 8081],
    ['gateway', 8080],
    ['archiver', 8082],
  ] as const) {
    it(`Dockerfile.${name} should build with the pinned pnpm and ship only the deployed service`, () => {
      const text = readFileSync(join(root, `Dockerfile.${name}`), 'utf8')
      expect(text).toMatch(/^ARG NODE_IMAGE=node:22-slim$/m)
      expect(text).toMatch(/corepack install/)
      expect(text).toMatch(/pnpm install --frozen-lockfile/)
      expect(text).toContain(`pnpm turbo run build --filter=@verisim/${name}...`)
      expect(text).toContain(`pnpm --filter=@verisim/${name} deploy --prod --legacy /out`)
      // The runtime stage: the deployed service only, unprivileged, health-checked.
      const runtime = text.slice(text.lastIndexOf('FROM '))
      expect(runtime).toMatch(/^COPY --from=build \/out\/ \.\/$/m)
      expect(runtime).toMatch(/^USER node$/m)
      expect(runtime).toContain(`${port}`)
      expect(runtime).toMatch(/^HEALTHCHECK /m)
      expect(runtime).toContain('/health/ready')
      expect(runtime).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m)
    })
  }

  it('Dockerfile.archiver should ship the archive migrations, which pnpm deploy copies as "files"', () => {
    const text = readFileSync(join(root, 'Dockerfile.archiver'), 'utf8')
    expect(text).toContain('test -n "$(ls /out/node_modules/@verisim/archive/migrations)"')
    const pkg = JSON.parse(readFileSync(join(root, 'packages/archive/package.json'), 'utf8')) as {
      files?: string[]
    }
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'migrations']))
  })

  it('each service should have its Railway config pointing at its Dockerfile', () => {
    for (const name of ['generator', 'gateway', 'archiver']) {
      const text = readFileSync(join(root, `railway.${name}.toml`), 'utf8')
      expect(text).toContain(`dockerfilePath = "Dockerfile.${name}"`)
      expect(text).toContain('healthcheckPath = "/health/ready"')
    }
  })

  it('package.json packageManager should pin the pnpm the Dockerfiles install', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      packageManager?: string
    }
    expect(pkg.packageManager).toMatch(/^pnpm@\d+\.\d+\.\d+$/)
  })
})

describe('config/prometheus.yml', () => {
  it('prometheus should scrape every service', () => {
    const prometheus = parse(readFileSync(join(root, 'config/prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{ metrics_path?: string; static_configs: Array<{ targets: string[] }> }>
    }
    const targets = prometheus.scrape_configs.flatMap((job) => {
      expect(job.metrics_path ?? '/metrics').toBe('/metrics')
      return job.static_configs.flatMap((c) => c.targets)
    })
    expect(targets.sort()).toEqual(['archiver:8082', 'gateway:8080', 'generator:8081'])
  })
})

describe('config/grafana', () => {
  it('grafana should provision the archive data source and a dashboard over it', () => {
    const sources = parse(
      readFileSync(join(root, 'config/grafana/provisioning/datasources/archive.yml'), 'utf8'),
    ) as { datasources: Array<{ uid: string; type: string; url: string }> }
    const archive = sources.datasources.find((d) => d.uid === 'verisim-archive')
    expect(archive?.type).toBe('grafana-postgresql-datasource')
    expect(archive?.url).toBe('postgres:5432')
    const dashboard = JSON.parse(
      readFileSync(join(root, 'config/grafana/dashboards/archive.json'), 'utf8'),
    ) as { panels: Array<{ targets: Array<{ datasource: { uid: string }; rawSql: string }> }> }
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(3)
    for (const target of dashboard.panels.flatMap((p) => p.targets)) {
      expect(target.datasource.uid).toBe('verisim-archive')
      expect(target.rawSql).toContain('$__timeFilter(ts)')
    }
  })
})
