/**
 * The agent pipeline. Each agent stream is one (segment, action) of the population
 * at the population-level rate; when it fires, one agent of the segment is picked
 * in proportion to its propensity (a cooldown thins the draw: see the kernel's
 * `Cooldown`) and runs decide → execute → update state → emit:
 *
 * - visit (café): decide where (its favourite with the segment's loyalty, else any
 *   café), execute the stay (the drawn minutes), update (a new café may become its
 *   favourite; the visit cools down its propensity to visit), emit.
 * - browse (shop): the same with shops, no cooldown.
 * - purchase: decide the shop, execute the order, update (order count, cooldown on
 *   purchasing), emit; hands the order to the review chain.
 * - review (a chain outcome of a purchase): a bad rating makes the agent drop the
 *   shop as its favourite.
 *
 * `metrics.snapshot` is the periodic system: population and cooldown figures.
 */
import type { Behavior, BehaviorContract, Host } from '@verisim/sim'
import { ACTIONS, Action, SEGMENTS } from './config.js'
import { agentId, type TownState } from './state.js'

type TownHost = Host<TownState>
type TownBehavior = Behavior<TownState>

/** What a purchase hands to the chains it triggers. */
export interface OrderContext {
  readonly orderId: string
  readonly agent: number
  readonly venue: number
}

const c = (
  accepts: readonly string[],
  gives: string,
  observes: BehaviorContract['observes'] = 'no',
): BehaviorContract => ({ accepts, gives, observes })

/** Which context each behaviour accepts and hands on (checked against the chains at load). */
export const BEHAVIOR_CONTEXT: Readonly<Record<string, BehaviorContract>> = {
  'agent.visit': c(['none'], 'none'),
  'agent.browse': c(['none'], 'none'),
  'agent.purchase': c(['none'], 'order'),
  'review.post': c(['order'], 'none'),
  'metrics.snapshot': c(['none'], 'none', 'yes'),
}

const r1 = (x: number): number => Math.round(x * 10) / 10

/** Picks the agent of segment `seg` who does `action` now; −1 when nobody does (thinned out). */
function pickAgent(h: TownHost, seg: number, action: number, t: number): number {
  const st = h.state
  const cd = st.cooldowns[action]
  return cd ? cd.pick(seg, t, h.rng) : st.pop.pick(seg, action, h.rng)
}

/**
 * Decide: the venue of `action`'s kind the agent goes to (its favourite with the
 * segment's loyalty); update: a venue not its favourite becomes it with the
 * segment's switch rate. Returns the venue (index in the config's venues).
 */
function chooseVenue(h: TownHost, id: number, seg: number, action: number): number {
  const st = h.state
  const kind = st.cfg.actions[action]!.venueKind
  const fav = st.favourite[kind]!.values
  const sc = st.cfg.segments[seg]!
  const current = fav[id]!
  if (h.rng.next() < sc.loyalty) return current
  const vs = st.cfg.venuesByKind[kind]!
  const v = vs[h.rng.int(vs.length)]!
  if (v !== current && h.rng.next() < sc.switchRate) fav[id] = v
  return v
}

const visit: TownBehavior = (h, s, _ctx, t) => {
  const st = h.state
  const seg = st.cfg.streamSegment[s.index]!
  const id = pickAgent(h, seg, Action.visit, t)
  if (id < 0) return null
  const cafe = st.favourite[st.cfg.actions[Action.visit]!.venueKind]!.values[id]!
  const v = chooseVenue(h, id, seg, Action.visit)
  st.cooldowns[Action.visit]?.begin(id, t)
  st.interval.actions[Action.visit]!++
  return {
    agentId: agentId(id),
    segment: SEGMENTS[seg],
    venueId: st.cfg.venues[v]!.id,
    regular: v === cafe,
  }
}

const browse: TownBehavior = (h, s, _ctx, t) => {
  const st = h.state
  const seg = st.cfg.streamSegment[s.index]!
  const id = pickAgent(h, seg, Action.browse, t)
  if (id < 0) return null
  const v = chooseVenue(h, id, seg, Action.browse)
  st.cooldowns[Action.browse]?.begin(id, t)
  st.interval.actions[Action.browse]!++
  return {
    agentId: agentId(id),
    segment: SEGMENTS[seg],
    venueId: st.cfg.venues[v]!.id,
  }
}

const purchase: TownBehavior = (h, s, _ctx, t) => {
  const st = h.state
  const seg = st.cfg.streamSegment[s.index]!
  const id = pickAgent(h, seg, Action.purchase, t)
  if (id < 0) return null
  const v = chooseVenue(h, id, seg, Action.purchase)
  const orders = st.orders.values
  if (orders[id]! < 0xffff) orders[id]!++
  st.cooldowns[Action.purchase]?.begin(id, t)
  const order: OrderContext = { orderId: `ord_${++st.ordersTotal}`, agent: id, venue: v }
  st.interval.actions[Action.purchase]!++
  if (h.value === h.value) st.interval.revenueUsd += h.value
  h.child = order
  return {
    orderId: order.orderId,
    agentId: agentId(id),
    segment: SEGMENTS[seg],
    venueId: st.cfg.venues[v]!.id,
    nthOrder: orders[id],
  }
}

const review: TownBehavior = (h, _s, ctx) => {
  const o = ctx as OrderContext
  const st = h.state
  const kind = st.cfg.venues[o.venue]!.kind
  const fav = st.favourite[kind]!.values
  // a bad experience: the agent drops the shop as its favourite for another one
  if (h.value <= st.cfg.unhappyAtOrBelow && fav[o.agent] === o.venue) {
    const vs = st.cfg.venuesByKind[kind]!
    if (vs.length > 1) {
      const k = h.rng.int(vs.length - 1)
      const other = vs[k]! === o.venue ? vs[vs.length - 1]! : vs[k]!
      fav[o.agent] = other
    }
  }
  st.interval.reviews++
  return {
    reviewId: `rev_${++st.reviewsTotal}`,
    orderId: o.orderId,
    agentId: agentId(o.agent),
    venueId: st.cfg.venues[o.venue]!.id,
  }
}

const snapshot: TownBehavior = (h, _s, _ctx, t) => {
  const st = h.state
  const pop = st.pop
  const data: Record<string, unknown> = { agents: pop.size }
  let coolingPurchase = 0
  ACTIONS.forEach((name, a) => {
    const cd = st.cooldowns[a]
    if (!cd) return
    cd.restore(t)
    let n = 0
    for (let s = 0; s < pop.segments.length; s++) n += cd.cooling(s)
    data[`cooling${name[0]!.toUpperCase()}${name.slice(1)}`] = n
    if (a === Action.purchase) coolingPurchase = n
  })
  ACTIONS.forEach((name, a) => (data[`${name}s`] = st.interval.actions[a]))
  data.reviews = st.interval.reviews
  data.revenueUsd = Math.round(st.interval.revenueUsd * 100) / 100
  st.interval.actions.fill(0)
  st.interval.reviews = 0
  st.interval.revenueUsd = 0
  h.value = pop.size > 0 ? r1((100 * coolingPurchase) / pop.size) : 0
  return data
}

export const BEHAVIORS: Readonly<Record<string, TownBehavior>> = {
  'agent.visit': visit,
  'agent.browse': browse,
  'agent.purchase': purchase,
  'review.post': review,
  'metrics.snapshot': snapshot,
}
