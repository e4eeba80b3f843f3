/** Loading a world for a command, with a failure that says where it looked. */
import { join } from 'node:path'
import { loadWorld, type World } from '@verisim/sim'
import { worldModule } from '@verisim/worlds'
import { CliFailure } from '../errors.js'

export function loadCliWorld(id: string, configDir: string): World {
  try {
    return loadWorld(join(configDir, id), worldModule(id))
  } catch (err) {
    throw new CliFailure(
      `cannot load world ${id} from ${configDir}: ${err instanceof Error ? err.message : String(err)}`,
    )
  }
}
