/**
 * When a requested session takes place (the engine's slot rule, shared with the
 * history model): candidate start hours from the minimum lead on, weighted by the
 * sessions' slot profile and an exponential decay of the lead time.
 */
import { HOUR } from './calendar.js'
import type { RateModel } from './rates.js'
import type { World } from './world/load.js'

/** Number of candidate start hours between the minimum and the maximum lead. */
export function slotHours(ss: World['sessions']): number {
  return Math.max(1, Math.floor((ss.maxLeadMs - ss.minLeadMs) / HOUR))
}

/**
 * Fills `cdf[k]` with the cumulative weight of start hour `h0 + k` for a request
 * at `t` (k < slotHours) and returns `h0`, the first candidate hour.
 */
export function slotCdf(
  rm: RateModel,
  ss: World['sessions'],
  t: number,
  cdf: Float64Array,
): number {
  const h0 = Math.ceil((t + ss.minLeadMs) / HOUR)
  const lead0 = h0 - t / HOUR
  let acc = 0
  for (let k = 0; k < cdf.length; k++) {
    acc += rm.factor(ss.slotProfile, h0 + k) * Math.exp(-(lead0 + k) / ss.leadDecayHours)
    cdf[k] = acc
  }
  return h0
}
