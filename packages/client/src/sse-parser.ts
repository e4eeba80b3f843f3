/**
 * An incremental parser for `text/event-stream` (the WHATWG "event stream
 * interpretation"), fed decoded text in chunks of any size: a line, a CRLF or a
 * message may be split anywhere. Used by the SSE transport over `fetch`, so it
 * works where `EventSource` does not (Node) and can resume with `?lastId=`.
 */

export interface SseMessage {
  /** The last event id seen on the stream so far (ids persist across messages, per the spec). */
  id: string
  /** `event:` field, `message` when absent. */
  event: string
  data: string
}

const LF = 10
const CR = 13
const COLON = 58
const SPACE = 32

export class SseParser {
  #pending = ''
  #skipLf = false
  #started = false
  #data: string[] = []
  #event = ''
  #lastId = ''
  #retry: number | null = null
  readonly #onComment: ((text: string) => void) | undefined

  constructor(opts: { onComment?: (text: string) => void } = {}) {
    this.#onComment = opts.onComment
  }

  /** The last `retry:` value received (ms), or null. */
  get retry(): number | null {
    return this.#retry
  }

  /** The last `id:` value received. */
  get lastEventId(): string {
    return this.#lastId
  }

  /**
   * Feeds the next piece of decoded text; returns the messages it completed, in order.
   *
   * @example
   * const p = new SseParser()
   * p.feed('id: 1-0\nevent: a.b\nda')   // []
   * p.feed('ta: {"x":1}\n\n')           // [{ id: '1-0', event: 'a.b', data: '{"x":1}' }]
   */
  feed(chunk: string): SseMessage[] {
    const out: SseMessage[] = []
    let text = chunk
    if (!this.#started && text.length > 0) {
      this.#started = true
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    }
    if (this.#skipLf && text.length > 0) {
      this.#skipLf = false
      if (text.charCodeAt(0) === LF) text = text.slice(1)
    }
    const s = this.#pending.length > 0 ? this.#pending + text : text
    let start = 0
    // Next CR is cached: searching it afresh for every line is quadratic on CR-free streams.
    let nextCr = s.indexOf('\r')
    for (;;) {
      if (nextCr !== -1 && nextCr < start) nextCr = s.indexOf('\r', start)
      const nextLf = s.indexOf('\n', start)
      let end: number
      if (nextLf === -1) end = nextCr
      else if (nextCr === -1) end = nextLf
      else end = Math.min(nextLf, nextCr)
      if (end === -1) break
      this.#line(s.slice(start, end), out)
      if (s.charCodeAt(end) === CR) {
        if (end + 1 < s.length) {
          start = s.charCodeAt(end + 1) === LF ? end + 2 : end + 1
        } else {
          this.#skipLf = true
          start = end + 1
        }
      } else {
        start = end + 1
      }
    }
    this.#pending = start === 0 ? s : s.slice(start)
    return out
  }

  #line(line: string, out: SseMessage[]): void {
    if (line.length === 0) {
      this.#dispatch(out)
      return
    }
    if (line.charCodeAt(0) === COLON) {
      this.#onComment?.(line.slice(1))
      return
    }
    const colon = line.indexOf(':')
    let field: string
    let value: string
    if (colon === -1) {
      field = line
      value = ''
    } else {
      field = line.slice(0, colon)
      value = line.charCodeAt(colon + 1) === SPACE ? line.slice(colon + 2) : line.slice(colon + 1)
    }
    switch (field) {
      case 'data':
        this.#data.push(value)
        break
      case 'event':
        this.#event = value
        break
      case 'id':
        if (!value.includes('\0')) this.#lastId = value
        break
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.#retry = Number(value)
        break
      default:
        // Unknown fields are ignored, per the spec.
        break
    }
  }

  #dispatch(out: SseMessage[]): void {
    const data = this.#data
    const event = this.#event
    this.#data = []
    this.#event = ''
    if (data.length === 0) return
    out.push({ id: this.#lastId, event: event === '' ? 'message' : event, data: data.join('\n') })
  }
}
