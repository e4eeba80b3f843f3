/** The conformance suite every world runs, on the example town. */
import { conformance } from '@verisim/sim/conformance'
import { townConfig, type TownStats } from '../src/index.js'
import { example } from './helpers.js'

conformance({
  world: example,
  initialCount: (kind, engine) =>
    kind === 'agent' ? engine.stats<TownStats>().world.initial.agents : 0,
  staticIds: (kind) => (kind === 'venue' ? townConfig(example()).venues.map((v) => v.id) : []),
  actions: [
    { name: 'spawn_agents', payload: { segment: 'student', count: 400 } },
    { name: 'spawn_agents', payload: { segment: 'retiree', count: 25 } },
  ],
})
