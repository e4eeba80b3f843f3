/**
 * Runs the engine alone for `verisim generate`: warmed up like the generator,
 * then advanced from start to end with the timed commands applied at exactly
 * their simulation times and scenario transitions at exactly theirs. Events are
 * encoded with the live stream's envelope encoder; their ids come from the
 * simulation clock (`<simulated ms>-<seq>`), so the same arguments give the
 * same bytes.
 */
import { createEnvelopeEncoder, createIdSequence } from '@verisim/bus'
import { createEngine, type Engine, type SimEvent, type World } from '@verisim/sim'
import { CliFailure } from '../errors.js'
import type { GeneratePlan, TimedCommand } from './plan.js'
import { streamFilter } from './plan.js'
import type { Sink } from './sinks.js'
import { TruthRecorder, type GroundTruth } from './truth.js'

const HOUR = 3_600_000
/** Largest engine step: one simulated hour (events of a step are held in memory). */
const STEP = 5 * 60_000

export interface GenerationResult {
  events: number
  /** Events of the warm-up before start (computed, not written), and the wall milliseconds it took. */
  warmupEvents: number
  warmupMs: number
  truth: GroundTruth
}

export interface GenerationOptions {
  plan: GeneratePlan
  world: World
  sink: Sink
  /** Called after every step with the simulation time reached and the events written so far. */
  onProgress?: (simNow: number, events: number) => void
}

export async function runGeneration(o: GenerationOptions): Promise<GenerationResult> {
  const { plan, world, sink } = o
  const warmupHours = plan.warmupHours ?? world.module.warmupHours
  const origin = plan.start - warmupHours * HOUR
  const t0 = performance.now()
  const engine = createEngine({ world, seed: plan.seed, start: origin })
  let warmupEvents = 0
  while (engine.now < plan.start) {
    warmupEvents += engine.advance(Math.min(engine.now + HOUR, plan.start)).length
    o.onProgress?.(engine.now, 0)
  }
  const warmupMs = performance.now() - t0
  const keep = streamFilter(plan.streams)
  // NDJSON needs the envelope; CSV and Parquet only the id (they serialize the fields themselves)
  const ids = createIdSequence()
  const encode = createEnvelopeEncoder(plan.world, ids)
  const json = plan.format === 'ndjson'

  const truth = new TruthRecorder({ world, plan, origin, warmupHours })
  let events = 0
  let next = 0
  const emit = async (batch: SimEvent[]) => {
    for (const e of batch) {
      if (!keep(e.stream)) continue
      if (json) {
        const raw = encode(e, e.ts)
        sink.add({ e, id: raw.id, json: raw.json })
      } else sink.add({ e, id: ids.next(e.ts), json: '' })
      truth.observe(e)
      events++
      if (sink.full) await sink.flush()
    }
  }
  for (;;) {
    applyDue(engine, plan.commands, next, truth, (n) => (next = n))
    if (engine.now >= plan.end) break
    let to = Math.min(plan.end, engine.now + STEP)
    const cmd = plan.commands[next]
    if (cmd && cmd.at < to) to = cmd.at
    const tr = engine.scenarioStatus()?.nextTransition
    if (tr && tr.at > engine.now && tr.at < to) to = tr.at
    await emit(engine.advance(to))
    o.onProgress?.(engine.now, events)
  }
  return { events, warmupEvents, warmupMs, truth: truth.finish(engine) }
}

/** Scenario transitions due at `engine.now`, then the commands due, in order. */
function applyDue(
  engine: Engine,
  commands: readonly TimedCommand[],
  from: number,
  truth: TruthRecorder,
  setNext: (n: number) => void,
): void {
  for (;;) {
    const s = engine.scenarioStatus()
    const tr = s?.nextTransition
    if (!s || !tr || tr.at > engine.now) break
    if (!engine.transitionScenario(s.runId, tr.to)) break
    truth.scenarioChanged(engine)
  }
  let i = from
  for (; i < commands.length && commands[i]!.at <= engine.now; i++) {
    const c = commands[i]!
    try {
      if (c.kind === 'scenario') {
        const a = engine.activateScenario(c.id)
        truth.scenarioStarted(engine, a)
      } else if (c.kind === 'external') {
        truth.externalInjected(
          engine.injectExternalEvent({ templateId: c.templateId, timestamp: c.at }),
        )
      } else {
        truth.actionApplied(c, engine.act(c.name, c.payload))
      }
    } catch (err) {
      throw new CliFailure(`${c.flag}: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  setNext(i)
}
