/** The tutoring world's state: the entity registry, its config and the slot-rule cache. */
import type { World } from '@verisim/sim'
import { Registry } from './entities.js'
import { slotHours, type SlotCache } from './sessions.js'
import { tutoringConfig, type TutoringConfig } from './config.js'

export interface TutoringState extends SlotCache {
  readonly reg: Registry
  readonly cfg: TutoringConfig
  readonly campaignIds: readonly string[]
  /** Slot sampling cache: cumulative weights of the candidate hours for one first hour. */
  slotH0: number
  readonly slotCdf: Float64Array
}

export function initTutoring(world: World, seed: number, start: number): TutoringState {
  const cfg = tutoringConfig(world)
  return {
    reg: new Registry(world, cfg, seed, start),
    cfg,
    campaignIds: cfg.campaignIds,
    slotH0: NaN,
    slotCdf: new Float64Array(slotHours(cfg.sessions)),
  }
}
