/** The conformance suite every world runs, on tutoring. */
import { conformance } from '@verisim/sim/conformance'
import type { TutoringStats } from '../src/index.js'
import { tutoringConfig } from '../src/index.js'
import { tutoring } from './helpers.js'

conformance({
  world: tutoring,
  // Two thirds of all events are this log stream (no relationships): thinned to keep the week short.
  modifiers: [{ stream: 'system.api.request.log', multiplier: 0.05, cause: 'test:thin-api-log' }],
  initialCount: (kind, engine) => {
    const initial = engine.stats<TutoringStats>().world.initial
    return kind === 'student' ? initial.students : kind === 'tutor' ? initial.tutors : 0
  },
  staticIds: (kind) => (kind === 'campaign' ? tutoringConfig(tutoring()).campaignIds : []),
  actions: [
    { name: 'spawn_students', payload: { count: 500 } },
    { name: 'spawn_students', payload: { count: 20, cohort: 'organic' } },
  ],
})
