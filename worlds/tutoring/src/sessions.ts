/**
 * When a requested session takes place (the engine's slot rule, shared with the
 * history model): candidate start hours from the minimum lead on, weighted by the
 * sessions' slot profile and an exponential decay of the lead time.
 */
import { HOUR, type RateModel, type Rng } from '@verisim/sim'
import type { SessionsConfig } from './config.js'

/** The slot rule's cache in the state: cumulative weights of the candidate hours for one first hour. */
export interface SlotCache {
  readonly cfg: { readonly sessions: SessionsConfig }
  slotH0: number
  readonly slotCdf: Float64Array
}

/** Number of candidate start hours between the minimum and the maximum lead. */
export function slotHours(ss: SessionsConfig): number {
  return Math.max(1, Math.floor((ss.maxLeadMs - ss.minLeadMs) / HOUR))
}

/**
 * Fills `cdf[k]` with the cumulative weight of start hour `h0 + k` for a request
 * at `t` (k < slotHours) and returns `h0`, the first candidate hour.
 */
export function slotCdf(rm: RateModel, ss: SessionsConfig, t: number, cdf: Float64Array): number {
  const h0 = Math.ceil((t + ss.minLeadMs) / HOUR)
  const lead0 = h0 - t / HOUR
  let acc = 0
  for (let k = 0; k < cdf.length; k++) {
    acc += rm.factor(ss.slotProfile, h0 + k) * Math.exp(-(lead0 + k) / ss.leadDecayHours)
    cdf[k] = acc
  }
  return h0
}

/** A slot for a session requested at `t` (the slot CDF cached per first candidate hour in the state). */
export function sessionStart(st: SlotCache, rates: RateModel, t: number, rng: Rng): number {
  const ss = st.cfg.sessions
  const h0 = Math.ceil((t + ss.minLeadMs) / HOUR)
  const cdf = st.slotCdf
  if (h0 !== st.slotH0) st.slotH0 = slotCdf(rates, ss, t, cdf)
  const u = rng.next() * cdf[cdf.length - 1]!
  let lo = 0
  let hi = cdf.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (cdf[mid]! > u) hi = mid
    else lo = mid + 1
  }
  const slots = Math.max(1, Math.floor(HOUR / ss.slotMs))
  return (h0 + lo) * HOUR + rng.int(slots) * ss.slotMs
}

/**
 * Mean field of the slot rule (the history model): expected session starts per
 * bucket from the expected booking requests per bucket.
 */
export function expectedSessionStarts(
  ss: SessionsConfig,
  rm: RateModel,
  req: Float64Array,
  t0: number,
  M: number,
  bucketMs: number,
): Float64Array {
  const hours = slotHours(ss)
  const slots = Math.max(1, Math.floor(HOUR / ss.slotMs))
  const out = new Float64Array(M)
  const cdf = new Float64Array(hours)
  let h0 = NaN
  for (let i = 0; i < req.length; i++) {
    if (req[i] === 0) continue
    const t = t0 + (i + 0.5) * bucketMs
    // the engine's slot rule, cached per first candidate hour as the engine does
    if (Math.ceil((t + ss.minLeadMs) / HOUR) !== h0) h0 = slotCdf(rm, ss, t, cdf)
    const x = req[i]! / slots / cdf[hours - 1]!
    for (let k = 0; k < hours; k++) {
      const w = cdf[k]! - (k > 0 ? cdf[k - 1]! : 0)
      const base = (h0 + k) * HOUR
      for (let j = 0; j < slots; j++) {
        const b = Math.floor((base + j * ss.slotMs - t0) / bucketMs)
        if (b < M) out[b]! += x * w
      }
    }
  }
  return out
}
