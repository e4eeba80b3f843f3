/** A minimal SSE reader over fetch, for tests: collects `{id, event, data}` messages. */
export interface SseMessage {
  id?: string
  event?: string
  data: string
}

export function openSse(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController()
  const messages: SseMessage[] = []
  let status = 0
  const done = (async () => {
    const res = await fetch(url, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: controller.signal,
    })
    status = res.status
    if (!res.ok || !res.body) return
    const decoder = new TextDecoder()
    let buf = ''
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true })
        let end: number
        while ((end = buf.indexOf('\n\n')) !== -1) {
          const block = buf.slice(0, end)
          buf = buf.slice(end + 2)
          const msg: SseMessage = { data: '' }
          let hasData = false
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue
            const colon = line.indexOf(':')
            const field = colon === -1 ? line : line.slice(0, colon)
            const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
            if (field === 'id') msg.id = value
            else if (field === 'event') msg.event = value
            else if (field === 'data') {
              msg.data += (hasData ? '\n' : '') + value
              hasData = true
            }
          }
          if (hasData) messages.push(msg)
        }
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err
    }
  })().catch((err: Error) => {
    if (err.name !== 'AbortError') throw err
  })
  return {
    messages,
    status: () => status,
    close: async () => {
      controller.abort()
      await done
    },
  }
}
