/** The seasonal baseline of the statistics: what history normalization compares an interval with. */
import { beforeAll, describe, expect, it } from 'vitest'
import { HistoryBook, rollUp, seasonalExpected, type HistoryInterval } from '@verisim/sim'
import { tutoring } from './helpers.js'

const START = Date.UTC(2026, 2, 2, 9) // Monday, outside the calendar's periods for the 30 days before
let book: HistoryBook

beforeAll(() => {
  book = new HistoryBook({ world: tutoring(), seed: 11, start: START })
})

describe('seasonal baseline', () => {
  it.each(['12h', '1h', '15m'] as HistoryInterval[])(
    'should average each slot of the day, weekdays and weekends apart (%s)',
    (interval) => {
      const s = book.series.streams.indexOf('session.completed')
      const st = book.statistics(interval).streams['session.completed']!
      const { t, v } = rollUp(book.series, s, interval)
      const slotsPerDay = st.seasonal.slotsPerDay
      expect(slotsPerDay).toBe({ '12h': 2, '1h': 24, '15m': 96 }[interval])
      // direct: mean of the weekday values in slot 0, relative to the overall mean
      const mean = v.reduce((a, b) => a + b, 0) / v.length
      const slot0 = v.filter((_, i) => {
        const d = new Date(t[i]!)
        return d.getUTCDay() % 6 !== 0 && t[i]! % 86_400_000 < 86_400_000 / slotsPerDay
      })
      const direct = slot0.reduce((a, b) => a + b, 0) / slot0.length / mean
      expect(st.seasonal.weekday[0]).toBeCloseTo(direct, 3)
      // the residuals around the seasonal expectation are much tighter than around the mean
      expect(st.seasonal.residualStdDev).toBeLessThan(st.stdDev / 2)
      // and the expectation tracks the series: residuals average about zero
      const res = v.map((x, i) => x - seasonalExpected(st, t[i]!))
      expect(Math.abs(res.reduce((a, b) => a + b, 0) / res.length)).toBeLessThan(
        st.seasonal.residualStdDev / 4,
      )
    },
  )
})
