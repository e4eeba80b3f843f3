/**
 * The external events of the 30-day baseline (seeds: 2–5 a day; academic ones on
 * a schedule, marketing in clusters, infrastructure at random; 60–70 % causal,
 * 30–40 % red herrings), drawn from the world's external-event library with the
 * run's seed. They are history modifications like any other: the causal ones shape
 * the baseline series through their modifiers, the red herrings are announced and
 * change nothing.
 */
import { DAY, HOUR } from '../calendar.js'
import type { CompiledTemplate } from '../external.js'
import { Rng, deriveKey } from '../rng.js'
import type { World } from '../world/types.js'
import type { HistoryModification } from './timeline.js'

/** Share of baseline events that are red herrings. */
export const RED_HERRING_SHARE = 0.35

export interface BaselineEventPlan {
  /** Injections in time order (template id, timestamp, red-herring flag). */
  mods: Extract<HistoryModification, { kind: 'event' }>[]
  /** Ids the events get in the baseline (`base_<n>`), in the same order. */
  ids: string[]
}

/**
 * Plans the baseline's external events over `[from, to)`: per UTC day 2–5 events;
 * an academic event every Monday 08:00 UTC (when the library has any), marketing
 * events in bursts of 2–3 over a day or two every 4–6 days, infrastructure at any
 * hour, product/competitive/operational in business hours; a template does not
 * come back within 10 days while others are left. Exactly
 * round(35 %) of them are red herrings (library red herrings count first).
 */
export function planBaselineEvents(
  world: World,
  seed: number,
  from: number,
  to: number,
): BaselineEventPlan {
  const templates = world.scenarioSet.templates
  if (templates.length === 0) return { mods: [], ids: [] }
  const byCat = new Map<string, CompiledTemplate[]>()
  for (const t of templates) {
    const list = byCat.get(t.category) ?? []
    list.push(t)
    byCat.set(t.category, list)
  }
  const r = new Rng(deriveKey(seed, 'history', 'events'))
  const pick = <T>(xs: readonly T[]): T => xs[r.int(xs.length)]!
  // a template does not come back within 10 days (when its category has others)
  const lastUse = new Map<string, number>()
  /** A template not used in the last 10 days, else the one used longest ago. */
  const freshest = (all: readonly CompiledTemplate[], at: number): CompiledTemplate => {
    const used = (t: CompiledTemplate) => lastUse.get(t.id) ?? -Infinity
    const fresh = all.filter((t) => !(at - used(t) < 10 * DAY))
    if (fresh.length > 0) return pick(fresh)
    return all.reduce((a, b) => (used(b) < used(a) ? b : a))
  }
  const pickTemplate = (cat: string, at: number): CompiledTemplate => {
    const t = freshest(byCat.get(cat)!, at)
    lastUse.set(t.id, at)
    return t
  }
  const picked: { t: CompiledTemplate; at: number }[] = []
  // marketing bursts: a burst starts every 4–6 days and lasts 1–2 days
  const bursts: [number, number][] = []
  for (let b = from + r.int(3) * DAY; b < to; b += (4 + r.int(3)) * DAY)
    bursts.push([b, b + (1 + r.int(2)) * DAY])
  const inBurst = (t: number) => bursts.some(([a, b]) => t >= a && t < b)
  // the rest of the day: any template of these categories not used in the last 10 days
  const OTHER = new Set(['product', 'competitive', 'operational', 'infrastructure'])
  const others = templates.filter((t) => OTHER.has(t.category))
  const pickOther = (at: number): CompiledTemplate => {
    const t = freshest(others.length > 0 ? others : templates, at)
    lastUse.set(t.id, at)
    return t
  }
  // per UTC day; a day the window only partly covers keeps the events inside it
  for (let day = Math.floor(from / DAY) * DAY; day < to; day += DAY) {
    const k = 2 + r.int(4)
    let slots = k
    // academic: on schedule, Mondays 08:00 UTC
    if (byCat.has('academic') && new Date(day).getUTCDay() === 1) {
      picked.push({ t: pickTemplate('academic', day), at: day + 8 * HOUR })
      slots--
    }
    // marketing: clustered in the bursts (2 on a burst day), rare outside
    if (byCat.has('marketing')) {
      const n = inBurst(day + 12 * HOUR) ? Math.min(2, slots) : r.next() < 0.15 ? 1 : 0
      for (let i = 0; i < n && slots > 0; i++, slots--)
        picked.push({
          t: pickTemplate('marketing', day),
          at: day + (12 + r.int(10)) * HOUR + r.int(60) * 60_000,
        })
    }
    for (; slots > 0; slots--) {
      const t = pickOther(day)
      const hour = t.category === 'infrastructure' ? r.int(24) : 9 + r.int(9)
      picked.push({ t, at: day + hour * HOUR + r.int(60) * 60_000 })
    }
  }
  for (let i = picked.length - 1; i >= 0; i--)
    if (picked[i]!.at < from || picked[i]!.at >= to) picked.splice(i, 1)
  picked.sort((a, b) => a.at - b.at)
  // exactly round(35 %) red herrings: the library's own first, then a seeded choice
  const want = Math.round(picked.length * RED_HERRING_SHARE)
  const herring = picked.map((p) => p.t.redHerring)
  let have = herring.filter(Boolean).length
  const candidates = picked.map((_, i) => i).filter((i) => !herring[i])
  for (let i = candidates.length - 1; i > 0; i--) {
    const j = r.int(i + 1)
    ;[candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!]
  }
  for (const i of candidates) {
    if (have >= want) break
    herring[i] = true
    have++
  }
  return {
    mods: picked.map((p, i) => ({
      kind: 'event' as const,
      event: {
        templateId: p.t.id,
        timestamp: new Date(p.at).toISOString(),
        ...(herring[i] && !p.t.redHerring ? { redHerring: true } : {}),
      },
    })),
    ids: picked.map((_, i) => `base_${i + 1}`),
  }
}
