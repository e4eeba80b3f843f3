/**
 * A minimal observable value and the hook that re-renders a component when it
 * changes: enough shared state for one page without a state library.
 */
import { useEffect, useState } from 'preact/hooks'

export interface Signal<T> {
  get(): T
  set(next: T): void
  update(fn: (prev: T) => T): void
  subscribe(fn: (value: T) => void): () => void
}

export function signal<T>(initial: T): Signal<T> {
  let value = initial
  const subs = new Set<(v: T) => void>()
  return {
    get: () => value,
    set(next) {
      if (Object.is(next, value)) return
      value = next
      for (const fn of [...subs]) fn(value)
    },
    update(fn) {
      this.set(fn(value))
    },
    subscribe(fn) {
      subs.add(fn)
      return () => subs.delete(fn)
    },
  }
}

/** The signal's current value; the component re-renders on every change. */
export function useSignal<T>(s: Signal<T>): T {
  const [, force] = useState(0)
  const value = s.get()
  useEffect(() => {
    const off = s.subscribe(() => force((n) => n + 1))
    // A change between this render and the subscription would otherwise be missed.
    if (!Object.is(s.get(), value)) force((n) => n + 1)
    return off
  }, [s])
  return value
}
