/**
 * A small typed event emitter. A listener that throws does not disturb the
 * client or the other listeners: the error goes to `onListenerError`.
 */

export type EventMap<M> = { [K in keyof M]: unknown[] }
export type Listener<A extends unknown[]> = (...args: A) => void

export class Emitter<M extends EventMap<M>> {
  readonly #listeners = new Map<keyof M, Set<unknown>>()
  readonly #onListenerError: (err: unknown, event: keyof M) => void

  constructor(onListenerError: (err: unknown, event: keyof M) => void) {
    this.#onListenerError = onListenerError
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof M>(event: K, listener: Listener<M[K]>): () => void {
    let set = this.#listeners.get(event)
    if (!set) {
      set = new Set()
      this.#listeners.set(event, set)
    }
    set.add(listener)
    return () => this.off(event, listener)
  }

  off<K extends keyof M>(event: K, listener: Listener<M[K]>): void {
    this.#listeners.get(event)?.delete(listener)
  }

  /** Adds a listener that runs at most once; returns a function that removes it. */
  once<K extends keyof M>(event: K, listener: Listener<M[K]>): () => void {
    const off = this.on(event, ((...args: M[K]) => {
      off()
      listener(...args)
    }) as Listener<M[K]>)
    return off
  }

  has(event: keyof M): boolean {
    const set = this.#listeners.get(event)
    return set !== undefined && set.size > 0
  }

  emit<K extends keyof M>(event: K, ...args: M[K]): void {
    const set = this.#listeners.get(event)
    if (!set || set.size === 0) return
    // A copy, so listeners added or removed while emitting take effect next time.
    for (const listener of [...set]) {
      try {
        ;(listener as Listener<M[K]>)(...args)
      } catch (err) {
        this.#onListenerError(err, event)
      }
    }
  }
}
