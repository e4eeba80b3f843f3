/** Shared fixtures of the engine tests: the tutoring world and a fixed start. */
import { fileURLToPath } from 'node:url'
import { loadWorld, type World } from '@verisim/sim'
import { tutoring as tutoringModule } from '../src/index.js'

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const TUTORING_DIR = fileURLToPath(
  new URL('../../../config/worlds/tutoring', import.meta.url),
)

/** Monday 24 February 2025, 00:00 UTC: no academic-calendar period for the next five weeks. */
export const START = Date.UTC(2025, 1, 24)

let cached: World | undefined
export function tutoring(): World {
  cached ??= loadWorld(TUTORING_DIR, tutoringModule)
  return cached
}

/** FNV-1a over a string, continued from `h` (a cheap running digest of an event sequence). */
export function fnv(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
export { tutoringModule }
