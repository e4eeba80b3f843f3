/**
 * A one-line progress bar on a terminal's standard error; silent when it is not
 * a terminal (piped, in CI), so output files and pipes never see it.
 */
import type { Writable } from 'node:stream'

export interface Progress {
  /** Redraws the bar at `done / total` with `label` (at most every 100 ms). */
  update(label: string, done: number, total: number): void
  /** Clears the line. */
  done(): void
}

const WIDTH = 30

export function createProgress(
  out: Writable & { isTTY?: boolean },
  enabled = out.isTTY === true,
): Progress {
  let last = ''
  let lastAt = 0
  return {
    update(label, done, total) {
      if (!enabled) return
      const now = performance.now()
      const f = total > 0 ? Math.min(1, done / total) : 1
      if (now - lastAt < 100 && f < 1) return
      lastAt = now
      const n = Math.round(f * WIDTH)
      const line = `  ${'█'.repeat(n)}${'░'.repeat(WIDTH - n)} ${String(Math.round(f * 100)).padStart(3)} %  ${label}`
      if (line === last) return
      last = line
      out.write(`\r${line}\x1b[K`)
    },
    done() {
      if (enabled && last) out.write('\r\x1b[K')
      last = ''
    },
  }
}
