/**
 * @verisim/worlds — the registry of world modules. The services, the CLI and the
 * benchmarks find a world here by id; the kernel (`@verisim/sim`) never imports a
 * world. Adding a world: a package under `worlds/<id>/`, one line in
 * {@link WORLD_MODULES}, its config folder under `config/worlds/<id>/`
 * (docs/WORLDS.md).
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SimError, SimErrorCode, loadWorld, type World, type WorldModule } from '@verisim/sim'
import { example } from '@verisim/world-example'
import { tutoring } from '@verisim/world-tutoring'

/** Every world module this build knows, by id. */
export const WORLD_MODULES: Readonly<Record<string, WorldModule>> = {
  tutoring: tutoring as unknown as WorldModule,
  example: example as unknown as WorldModule,
}

/**
 * Where the worlds' config folders are: `config/worlds` of the repository this
 * package was built in (packages/worlds/dist → ../../../), else the copy a packed
 * @verisim/worlds carries (`config/`, written at `prepack`).
 */
export const DEFAULT_WORLDS_DIR = ((): string => {
  const repo = resolve(fileURLToPath(new URL('../../../config/worlds', import.meta.url)))
  const packed = resolve(fileURLToPath(new URL('../config', import.meta.url)))
  return existsSync(repo) || !existsSync(packed) ? repo : packed
})()

/**
 * The module of world `id`. Throws `VS_SIM_WORLD_NOT_FOUND` naming the known ones.
 *
 * @example
 * worldModule('tutoring').warmupHours // 240
 */
export function worldModule(id: string): WorldModule {
  const m = WORLD_MODULES[id]
  if (!m)
    throw new SimError(
      SimErrorCode.worldNotFound,
      `unknown world ${JSON.stringify(id)}; expected one of ${Object.keys(WORLD_MODULES).join(', ')}`,
    )
  return m
}

/**
 * Loads world `id` with its module from `<configDir>/<id>` (default: the
 * repository's `config/worlds`).
 *
 * @example
 * const world = loadWorldById('tutoring')
 */
export function loadWorldById(id: string, configDir: string = DEFAULT_WORLDS_DIR): World {
  const module = worldModule(id)
  const dir = join(configDir, id)
  if (!existsSync(dir))
    throw new SimError(
      SimErrorCode.worldNotFound,
      `world ${JSON.stringify(id)} has a module but no config folder at ${dir}`,
    )
  return loadWorld(dir, module)
}
