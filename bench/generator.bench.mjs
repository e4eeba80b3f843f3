/**
 * Generator → Redis: engine + envelope encoding + pipelined XADD through the bus
 * writer, next to a plain pipelined ioredis XADD loop of the same payloads
 * (pre-serialized, same batch size, same MAXLEN), in the same run against the
 * same Redis. Target: generator ≥ 0.6 × the plain loop.
 */
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { createEngine } from '@verisim/sim'
import { loadWorldById } from '@verisim/worlds'
import { createIdSequence, createKeys, createStreamWriter, deletePrefix } from '@verisim/bus'
import { createEnvelopeEncoder } from '@verisim/generator'

const here = dirname(fileURLToPath(import.meta.url))
const EVENTS = 200_000
const BATCH = 2_000
const MAXLEN = 1_000_000
const START = Date.parse('2026-11-02T00:00:00Z')

/** Runs the real generator path: advance the engine, encode, write. */
async function generatorPath(redis, world, prefix) {
  const keys = createKeys(prefix, 'tutoring')
  const writer = createStreamWriter({ redis, keys, maxLen: MAXLEN })
  const engine = createEngine({ world, seed: 42, start: START })
  const encode = createEnvelopeEncoder('tutoring', createIdSequence())
  let written = 0
  let t = START
  const payloads = []
  const t0 = process.hrtime.bigint()
  while (written < EVENTS) {
    t += 60_000
    const events = engine.advance(t)
    for (let i = 0; i < events.length; i += BATCH) {
      const wall = Date.now()
      const raw = events.slice(i, i + BATCH).map((e) => encode(e, wall))
      await writer.write(raw)
      written += raw.length
      for (const r of raw) payloads.push(r)
    }
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  return { rate: written / secs, written, payloads }
}

/** The baseline: the same payloads, already serialized, XADDed in pipelines. */
async function plainPath(redis, payloads, prefix) {
  const keyOf = new Map()
  const key = (ch) => {
    let k = keyOf.get(ch)
    if (!k) keyOf.set(ch, (k = `${prefix}:{plain}:ch:${ch}`))
    return k
  }
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < payloads.length; i += BATCH) {
    const p = redis.pipeline()
    for (const e of payloads.slice(i, i + BATCH)) {
      p.xadd(
        key(e.channel),
        'MAXLEN',
        '~',
        String(MAXLEN),
        e.id,
        's',
        e.stream,
        'f',
        e.anomalyFlag,
        'e',
        e.json,
      )
    }
    await p.exec()
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  return payloads.length / secs
}

export default async function run(ctx) {
  const url = await ctx.redisUrl()
  const redis = new Redis(url)
  const world = loadWorldById('tutoring')
  const rows = []
  try {
    let bestGen = 0
    let bestPlain = 0
    let count = 0
    let bytes = 0
    for (let round = 0; round < 3; round++) {
      const prefix = `bench${randomBytes(3).toString('hex')}`
      try {
        const gen = await generatorPath(redis, world, prefix)
        const plain = await plainPath(redis, gen.payloads, prefix)
        ctx.log(
          `round ${round + 1}: generator ${Math.round(gen.rate)} ev/s, plain XADD ${Math.round(plain)} ev/s`,
        )
        bestGen = Math.max(bestGen, gen.rate)
        bestPlain = Math.max(bestPlain, plain)
        count = gen.written
        bytes = gen.payloads.reduce((n, p) => n + p.json.length, 0) / gen.payloads.length
      } finally {
        await deletePrefix(redis, prefix)
      }
    }
    rows.push(
      {
        name: 'generator → Redis',
        value: bestGen,
        unit: 'events/s',
        note: `${count} events, best of 3, batch ${BATCH}, avg ${Math.round(bytes)} B`,
      },
      {
        name: 'plain pipelined XADD',
        value: bestPlain,
        unit: 'events/s',
        note: 'same payloads pre-serialized, same batches',
      },
      { name: 'generator / plain', value: bestGen / bestPlain, unit: '×', target: '≥ 0.6' },
    )
  } finally {
    redis.disconnect()
  }
  return rows
}
