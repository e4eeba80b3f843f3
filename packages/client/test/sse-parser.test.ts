import { describe, expect, it } from 'vitest'
import { SseParser, type SseMessage } from '../src/index.js'

function parseAll(chunks: string[]): { messages: SseMessage[]; comments: string[] } {
  const comments: string[] = []
  const p = new SseParser({ onComment: (c) => comments.push(c) })
  const messages = chunks.flatMap((c) => p.feed(c))
  return { messages, comments }
}

const STREAM =
  '\uFEFF: connected\r\n\r\n' +
  'id: 1-0\nevent: customer.tutor.search\ndata: {"id":"1-0","text":"café ☕"}\n\n' +
  'data:first\rdata: second\r\rid: 2-5\r\n' +
  'event: catchup\r\ndata: {"reason":"too_old"}\r\n\r\n' +
  'retry: 2500\nid\ndata\n\n' +
  ': heartbeat\n\n' +
  'field-without-meaning: x\nid: 3-0\ndata: last\n\n' +
  'data: never dispatched'

const EXPECTED: SseMessage[] = [
  { id: '1-0', event: 'customer.tutor.search', data: '{"id":"1-0","text":"café ☕"}' },
  { id: '1-0', event: 'message', data: 'first\nsecond' },
  { id: '2-5', event: 'catchup', data: '{"reason":"too_old"}' },
  { id: '', event: 'message', data: '' },
  { id: '3-0', event: 'message', data: 'last' },
]

describe('SseParser', () => {
  it('should parse ids, events, multi-line data, comments and every line ending', () => {
    const { messages, comments } = parseAll([STREAM])
    expect(messages).toEqual(EXPECTED)
    expect(comments).toEqual([' connected', ' heartbeat'])
  })

  it('should give the same messages however the text is split', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      for (let j = i; j <= STREAM.length; j += 7) {
        const { messages } = parseAll([STREAM.slice(0, i), STREAM.slice(i, j), STREAM.slice(j)])
        expect(messages, `split at ${i}/${j}`).toEqual(EXPECTED)
      }
    }
  })

  it('should give the same messages when fed one character at a time', () => {
    expect(parseAll([...STREAM]).messages).toEqual(EXPECTED)
  })

  it('should treat a CR at the end of a chunk and an LF starting the next as one line end', () => {
    const { messages } = parseAll(['data: a\r', '\ndata: b\r', '', '\n\r', '\n'])
    expect(messages).toEqual([{ id: '', event: 'message', data: 'a\nb' }])
  })

  it('should keep the retry hint and ignore ids containing NUL', () => {
    const p = new SseParser()
    p.feed('retry: 1500\nretry: x\nid: 7-0\nid: bad\0id\ndata: y\n\n')
    expect(p.retry).toBe(1500)
    expect(p.lastEventId).toBe('7-0')
  })

  it('should not dispatch a message without data, but keep its id', () => {
    const p = new SseParser()
    expect(p.feed('id: 9-9\nevent: x\n\n')).toEqual([])
    expect(p.feed('data: z\n\n')).toEqual([{ id: '9-9', event: 'message', data: 'z' }])
  })

  it('should strip only one leading space from a value', () => {
    expect(parseAll(['data:  two spaces\n\n']).messages[0]?.data).toBe(' two spaces')
  })
})
