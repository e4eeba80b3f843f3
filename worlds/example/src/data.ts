/**
 * What each behaviour puts in its events' `data` (behaviors.ts returns it; the
 * kernel then adds the stream's configured fields and its primary value): the
 * declaration `verisim types` turns into TypeScript, checked against real events
 * by the CLI's tests. Change it with the behaviour.
 */
import type { DataFieldSpec, DataSpec, World, WorldStream } from '@verisim/sim'
import { ACTIONS, SEGMENTS, townConfig } from './config.js'

const id: DataFieldSpec = { type: 'id' }

/** The persona segment of an agent stream: one per stream. */
const segment = (world: World, stream: WorldStream): DataFieldSpec => {
  const seg = townConfig(world).streamSegment[stream.index]!
  return {
    type: 'string',
    values: seg >= 0 ? [SEGMENTS[seg]!] : [...SEGMENTS],
    description: "The agent's persona segment.",
  }
}

const count = (description: string): DataFieldSpec => ({ type: 'number', description })
const capital = (s: string): string => `${s[0]!.toUpperCase()}${s.slice(1)}`

/** `data` of each behaviour, by behaviour name. */
export const BEHAVIOR_DATA: Readonly<
  Record<string, DataSpec | ((world: World, stream: WorldStream) => DataSpec)>
> = {
  'agent.visit': (w, s) => ({
    agentId: id,
    segment: segment(w, s),
    venueId: id,
    regular: { type: 'boolean', description: "The café is the agent's favourite." },
  }),
  'agent.browse': (w, s) => ({ agentId: id, segment: segment(w, s), venueId: id }),
  'agent.purchase': (w, s) => ({
    orderId: id,
    agentId: id,
    segment: segment(w, s),
    venueId: id,
    nthOrder: count("The agent's orders so far, this one included (at most 65535)."),
  }),
  'review.post': { reviewId: id, orderId: id, agentId: id, venueId: id },
  'metrics.snapshot': (w) => {
    const actions = townConfig(w).actions
    const spec: Record<string, DataFieldSpec> = { agents: count('Agents in the town.') }
    ACTIONS.forEach((name, a) => {
      if (actions[a]!.cooldown)
        spec[`cooling${capital(name)}`] = count(`Agents cooling down after a ${name}.`)
    })
    for (const name of ACTIONS)
      spec[`${name}s`] = count(`${capital(name)}s since the last snapshot.`)
    spec.reviews = count('Reviews since the last snapshot.')
    spec.revenueUsd = {
      type: 'number',
      unit: 'USD',
      description: 'Revenue of the purchases since the last snapshot.',
    }
    return spec
  },
}
