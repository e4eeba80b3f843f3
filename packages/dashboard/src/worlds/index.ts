/**
 * The slot for world panels: which panels the admin page shows for which world
 * (by `GET /api/world`'s `id`). A world with panels of its own registers them
 * here; every world gets the generic "World" panel (its description and a form
 * per action) unless its entry says otherwise.
 *
 * @example
 * // a dining world with a persona panel of its own, plus the generic one
 * WORLD_PANELS.dining = [PersonaPanel, WorldPanel]
 */
import type { ComponentType } from 'preact'
import type { WorldDescription } from './model.js'
import { WorldPanel } from './WorldPanel.js'

/** A world panel: rendered with the running world's description, inside the page's app context. */
export type WorldPanelComponent = ComponentType<{ world: WorldDescription }>

/** Panels of each world, in page order. */
export const WORLD_PANELS: Record<string, readonly WorldPanelComponent[]> = {
  tutoring: [WorldPanel],
}

/** For a world without an entry. */
export const DEFAULT_PANELS: readonly WorldPanelComponent[] = [WorldPanel]

export function panelsFor(worldId: string): readonly WorldPanelComponent[] {
  return WORLD_PANELS[worldId] ?? DEFAULT_PANELS
}
