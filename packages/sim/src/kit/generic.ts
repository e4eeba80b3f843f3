/**
 * The kernel's own behaviour, `generic`: a stream that only picks its actors
 * (through the world module) and draws its configured fields. Every world has it.
 */
import type { Behavior, BehaviorContract } from './module.js'

export const GENERIC_CONTRACT: BehaviorContract = { accepts: 'any', gives: 'none', observes: 'no' }

/** Picks each of the stream's actors in order; skips the event when one has nobody to pick. */
export const genericBehavior: Behavior = (h, s) => {
  const data: Record<string, unknown> = {}
  const actors = h.world.module.actors
  for (const a of s.actors) {
    const actor = actors[a]!
    const id = actor.pick(h)
    if (id === null) return null
    data[actor.field] = id
  }
  return data
}
