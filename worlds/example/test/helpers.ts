/** Shared fixtures of the example world's tests: the world (as configured, or with config changes) and a fixed start. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  WORLD_FILES,
  compileWorld,
  loadWorld,
  type Engine,
  type SimEvent,
  type World,
  type WorldModule,
} from '@verisim/sim'
import { example as exampleModule } from '../src/index.js'

export const EXAMPLE_DIR = fileURLToPath(new URL('../../../config/worlds/example', import.meta.url))

/** Monday 24 February 2025, 00:00 UTC: no calendar period for weeks. */
export const START = Date.UTC(2025, 1, 24)

let cached: World | undefined
export function example(): World {
  cached ??= loadWorld(EXAMPLE_DIR, exampleModule as unknown as WorldModule)
  return cached
}

/** The world's config files as parsed (a fresh copy to change before {@link compiled}). */
export function rawConfig(): Record<keyof typeof WORLD_FILES, unknown> & {
  streams: { streams: Record<string, unknown>[] } & Record<string, unknown>
  baseline: Record<string, unknown>
} {
  const read = (f: string): unknown => JSON.parse(readFileSync(join(EXAMPLE_DIR, f), 'utf8'))
  return {
    streams: read(WORLD_FILES.streams),
    baseline: read(WORLD_FILES.baseline),
    relationships: read(WORLD_FILES.relationships),
    cadences: read(WORLD_FILES.cadences),
    scenarios: read(WORLD_FILES.scenarios),
    externalEvents: read(WORLD_FILES.externalEvents),
  } as ReturnType<typeof rawConfig>
}

/** The world compiled from changed config (what loadWorld does after reading the files). */
export function compiled(raw: ReturnType<typeof rawConfig>): World {
  return compileWorld(raw, exampleModule as unknown as WorldModule, EXAMPLE_DIR)
}

/** One line per event, everything that must be reproduced. */
export const line = (e: SimEvent): string =>
  JSON.stringify([e.ts, e.stream, e.data, e.normalizedValue, e.anomalyFlag, e.causes])

/** Advances `engine` to `to` in steps of `step(now)`, passing every event to `onEvent`. */
export function run(
  engine: Engine,
  to: number,
  step: (now: number) => number,
  onEvent: (e: SimEvent) => void,
): void {
  while (engine.now < to)
    for (const e of engine.advance(Math.min(to, engine.now + step(engine.now)))) onEvent(e)
}

/** The agent number of an `agt_<n>` id (n ≥ 1). */
export function agentNumber(id: unknown): number {
  return typeof id === 'string' && id.startsWith('agt_') ? Number(id.slice(4)) : NaN
}

export { exampleModule }
