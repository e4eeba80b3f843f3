/**
 * The world kit: what a world module supplies to the kernel. A world is a
 * {@link WorldModule} (behaviour, state, rates that depend on the state, anchors,
 * mean-field hooks, stats, snapshot/restore, actions) plus its JSON config folder;
 * the kernel (event queue, breakpoints, emit with normalization and causes,
 * scenarios, modifiers, external events, correlations, history) knows no world and
 * reaches a world's specifics only through this interface.
 *
 * The types live in the leaf `world/types.ts`; this module re-exports them for
 * worlds (through `@verisim/sim`) and adds `defineWorld`. Nothing here may import the engine.
 */
import type { WorldModule } from '../world/types.js'

export type {
  ActionResult,
  AnchorSpec,
  Behavior,
  BehaviorContract,
  BehaviorSpec,
  ContextKind,
  DataFieldSpec,
  DataSpec,
  Host,
  MeanFieldHooks,
  StateRateSpec,
  WorldActionSpec,
  WorldDescription,
  WorldModule,
} from '../world/types.js'

/** Defines a world module with its types checked (identity at run time). */
export function defineWorld<S, C>(m: WorldModule<S, C>): WorldModule<S, C> {
  return m
}
