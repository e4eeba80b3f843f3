/**
 * The `verisim` client commands (packages/cli/dist/bin.js as a real process)
 * against a real generator and gateway: `tail` prints envelopes in id order as
 * Redis holds them, resumes after `--last-id`, and across a gateway killed and
 * restarted loses and repeats nothing; the control commands change the running
 * simulation; the gateway's errors come out as it words them with exit 1, bad
 * flags exit 2 naming the flag. The process start costs about a second, so
 * most cases run main() in-process (the same code and exit code); colours and
 * text summaries run there too, with a stand-in terminal.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main, type Io } from '@verisim/cli'
import {
  compare,
  expectIncreasing,
  freePort,
  rest,
  startProcess,
  startStack,
  storedEvents,
  type Envelope,
  type Proc,
  type Stack,
  waitReady,
} from './harness.js'

const BIN = fileURLToPath(new URL('../../../packages/cli/dist/bin.js', import.meta.url))
const TOKEN = 'cli-live-token'
const CONTROL_CHANNEL = 'simulation_control'

let stack: Stack
let secured: string
/** The gateway started again on the first one's port. */
let restarted: Proc | null = null
/** CLI processes still running (a failed test leaves none behind). */
const running = new Set<ChildProcess>()
const { call, state } = rest(() => stack)

beforeAll(async () => {
  stack = await startStack({ env: { VERISIM_SPEED: '120' } })
  secured = (await stack.startGateway({ ADMIN_TOKEN: TOKEN })).url
})
afterAll(async () => {
  for (const child of running) child.kill('SIGKILL')
  await restarted?.stop()
  await stack?.stop()
})

/** The environment without the caller's VERISIM_* settings, plus `env`. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('VERISIM_') && k !== 'NO_COLOR'),
  )
  return { ...clean, ...env }
}

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

interface Running {
  stdout: () => string
  stderr: () => string
  /** Complete stdout lines so far. */
  lines: () => string[]
  signal(sig: NodeJS.Signals): void
  done: Promise<Run>
}

/** Starts `verisim <args>` with stdout and stderr piped (not a terminal). */
function start(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
  running.add(child)
  const done = new Promise<Run>((resolve) =>
    child.once('close', (code) => {
      running.delete(child)
      resolve({ code, stdout: out, stderr: err })
    }),
  )
  return {
    stdout: () => out,
    stderr: () => err,
    lines: () => out.split('\n').slice(0, -1),
    signal: (sig) => void child.kill(sig),
    done,
  }
}

async function verisim(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const r = start(args, env)
  const timer = setTimeout(() => r.signal('SIGKILL'), 30_000)
  try {
    return await r.done
  } finally {
    clearTimeout(timer)
  }
}

async function waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** What Redis holds in (after, upTo] on the channels `*` covers. */
async function stored(after: string, upTo: string): Promise<Envelope[]> {
  return (await storedEvents(stack.redis, stack.prefix, 'tutoring', after, upTo)).filter(
    (e) => e.channel !== CONTROL_CHANNEL,
  )
}

const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as Envelope)

/** A stand-in for a terminal or a pipe, collecting what is written. */
function fakeIo(tty: boolean, env: Record<string, string> = {}) {
  const sink = () => {
    const chunks: string[] = []
    const w = new Writable({
      write(chunk, _enc, cb) {
        chunks.push(String(chunk))
        cb()
      },
    }) as Writable & { isTTY?: boolean }
    w.isTTY = tty
    return { w, text: () => chunks.join('') }
  }
  const out = sink()
  const err = sink()
  const io: Io = { stdout: out.w, stderr: err.w, env, cwd: process.cwd() }
  return { io, stdout: out.text, stderr: err.text }
}

/**
 * `verisim <args>` in this process: main() with output that is not a terminal,
 * the same code path and exit code as the binary without a process start.
 */
async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const f = fakeIo(false, env)
  const code = await main(args, f.io)
  return { code, stdout: f.stdout(), stderr: f.stderr() }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[/

describe('verisim tail', () => {
  let first: Envelope[] = []

  it('should print --limit envelopes as NDJSON, in id order, exactly as Redis holds them', async () => {
    const r = await verisim(['tail', '--url', stack.gatewayUrl, '--limit', '40'])
    expect(r.code, r.stderr).toBe(0)
    // piped: ndjson by default, and nothing on stderr
    expect(r.stderr).toBe('')
    const lines = r.stdout.split('\n').slice(0, -1)
    expect(lines).toHaveLength(40)
    first = parse(lines)
    expectIncreasing(first.map((e) => e.id))
    const held = await stored(first[0]!.id, first.at(-1)!.id)
    expect(first.slice(1)).toEqual(held)
    expect(first[0]).toMatchObject({ world: 'tutoring', data: expect.any(Object) })
  })

  it('--last-id should resume exactly after that id', async () => {
    const after = first[9]!.id
    const r = await verisim([
      'tail',
      '--url',
      stack.gatewayUrl,
      '--last-id',
      after,
      '--limit',
      '25',
    ])
    expect(r.code, r.stderr).toBe(0)
    const events = parse(r.stdout.split('\n').slice(0, -1))
    expect(events).toHaveLength(25)
    expect(events).toEqual(await stored(after, events.at(-1)!.id))
    expect(compare(events[0]!.id, after)).toBeGreaterThan(0)
  })

  it('--format pretty should print one plain line per event when piped, and the status on stderr', async () => {
    const r = await verisim([
      'tail',
      '--url',
      stack.gatewayUrl,
      '--format',
      'pretty',
      '--limit',
      '5',
    ])
    expect(r.code, r.stderr).toBe(0)
    const lines = r.stdout.split('\n').slice(0, -1)
    expect(lines).toHaveLength(5)
    for (const l of lines) {
      expect(l).toMatch(
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}[a-z]+\.\S+ +.*\d+\.\d (normal|warning|critical)/,
      )
      expect(l).not.toMatch(ANSI)
    }
    expect(r.stderr).toContain(`connecting to ${stack.gatewayUrl} (topics *)`)
    expect(r.stderr).toContain('tailing * from now')
  })

  it('should colour its lines on a terminal, and not with NO_COLOR', async () => {
    const args = ['tail', '--url', stack.gatewayUrl, '--limit', '3']
    const tty = fakeIo(true)
    expect(await main(args, tty.io), tty.stderr()).toBe(0)
    const lines = tty.stdout().split('\n').slice(0, -1)
    expect(lines).toHaveLength(3)
    for (const l of lines) expect(l).toMatch(ANSI)
    expect(tty.stderr()).toContain('tailing * from now')
    const plain = fakeIo(true, { NO_COLOR: '1' })
    expect(await main(args, plain.io), plain.stderr()).toBe(0)
    expect(plain.stdout()).not.toMatch(ANSI)
    expect(plain.stdout().split('\n').slice(0, -1)).toHaveLength(3)
  })

  it('--for should stop after the duration with exit 0', async () => {
    const t0 = Date.now()
    const r = await run([
      'tail',
      '--url',
      stack.gatewayUrl,
      '--for',
      '1s',
      '--topics',
      'low-frequency',
    ])
    expect(r.code, r.stderr).toBe(0)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000)
    expect(Date.now() - t0).toBeLessThan(6000)
    expectIncreasing(parse(r.stdout.split('\n').slice(0, -1)).map((e) => e.id))
  })

  it('should exit 2 naming the flag for a bad --url, --last-id, --format, --limit or topic', async () => {
    const gw = ['--url', stack.gatewayUrl]
    const runs = await Promise.all([
      verisim(['tail', '--url', 'ftp://example.com']),
      run(['tail', ...gw, '--last-id', 'yesterday']),
      run(['tail', ...gw, '--format', 'xml']),
      run(['tail', ...gw, '--limit', '0']),
      run(['tail', ...gw, '--topics', 'nothing.*']),
      run(['tail'], { VERISIM_URL: 'localhost:8080' }),
    ])
    for (const r of runs) expect(r.code, r.stderr).toBe(2)
    const [url, lastId, format, limit, topics, env] = runs.map((r) => r.stderr)
    expect(url).toContain(
      'verisim: --url "ftp://example.com" is invalid; expected http(s)://host:port',
    )
    expect(lastId).toContain('--last-id "yesterday" is invalid; expected an event id <ms>-<seq>')
    expect(format).toContain('--format "xml" is invalid; expected pretty or ndjson')
    expect(limit).toContain('--limit "0" is invalid')
    expect(topics).toContain('--topics "nothing.*": VS_GW_UNKNOWN_TOPIC: unknown topic "nothing.*"')
    expect(env).toContain('VERISIM_URL="localhost:8080" is invalid')
  })

  it('should exit 1 with the reason when the gateway cannot be reached or refuses the token', async () => {
    const port = await freePort()
    const [unreachable, refused] = await Promise.all([
      verisim(['tail', '--url', `http://127.0.0.1:${port}`, '--retries', '1']),
      run(['tail', '--url', secured, '--limit', '1'], { VERISIM_TOKEN: 'wrong' }),
    ])
    expect(unreachable.code).toBe(1)
    expect(unreachable.stderr).toContain(
      `verisim: cannot reach http://127.0.0.1:${port}: gave up after 1 retry; last: connect ECONNREFUSED`,
    )
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('verisim: VS_GW_UNAUTHORIZED: invalid ?token=')
    // the right token streams
    const ok = await run(['tail', '--url', secured, '--token', TOKEN, '--limit', '3'])
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout.split('\n').slice(0, -1)).toHaveLength(3)
  })
})

describe('control commands', () => {
  const gw = () => ['--url', stack.gatewayUrl]

  it('state and scenarios should print the JSON answer when piped, a summary on a terminal', async () => {
    const s = await verisim(['state', ...gw()])
    expect(s.code, s.stderr).toBe(0)
    expect(JSON.parse(s.stdout)).toMatchObject({ world: 'tutoring', running: true })
    const list = await run(['scenarios', ...gw()])
    expect(list.code, list.stderr).toBe(0)
    expect(JSON.parse(list.stdout).scenarios.map((x: { id: string }) => x.id)).toContain(
      'exam-season-surge',
    )
    const tty = fakeIo(true)
    expect(await main(['state', ...gw()], tty.io), tty.stderr()).toBe(0)
    expect(tty.stdout()).toMatch(/^world +tutoring \(seed \d+\)$/m)
    expect(tty.stdout()).toMatch(/^clock +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(simulated\)/m)
    const forced = fakeIo(true)
    expect(await main(['scenarios', ...gw(), '--format', 'json'], forced.io)).toBe(0)
    expect(JSON.parse(forced.stdout()).scenarios.length).toBeGreaterThan(0)
  })

  it('scenario start / stop should drive the scenario, and the server errors exit 1 as worded', async () => {
    const started = await run(['scenario', 'start', 'exam-season-surge', ...gw()])
    expect(started.code, started.stderr).toBe(0)
    const answer = JSON.parse(started.stdout)
    expect(answer).toMatchObject({ success: true, scenario: { id: 'exam-season-surge' } })
    expect((await state()).scenario).toMatchObject({
      id: 'exam-season-surge',
      runId: answer.runId,
      status: 'active',
    })

    const [busy, unknown] = await Promise.all([
      run(['scenario', 'start', 'payment-outage', ...gw()]),
      verisim(['scenario', 'start', 'no-such-scenario', ...gw()]),
    ])
    expect(busy.code).toBe(1)
    expect(busy.stderr).toMatch(/^verisim: VS_SIM_SCENARIO_ACTIVE: scenario "exam-season-surge"/)
    expect(busy.stdout).toBe('')
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain(
      'verisim: VS_SIM_UNKNOWN_SCENARIO: unknown scenario "no-such-scenario"',
    )
    expect(unknown.stderr).toContain('(HTTP 404)')

    const stopped = await run(['scenario', 'stop', ...gw()])
    expect(stopped.code, stopped.stderr).toBe(0)
    expect(JSON.parse(stopped.stdout)).toMatchObject({
      success: true,
      settlingUntil: expect.any(String),
    })
    expect((await state()).scenario.status).toBe('settling')
  })

  it('speed should set the speed; a speed that is not a number exits 2', async () => {
    const r = await run(['speed', '90', ...gw()])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).speed).toBe(90)
    expect((await state()).speed).toBe(90)
    const [word, zero] = await Promise.all([
      verisim(['speed', 'fast', ...gw()]),
      run(['speed', '0', ...gw()]),
    ])
    expect(word.code).toBe(2)
    expect(word.stderr).toContain(
      'speed <multiplier> "fast" is invalid; expected a number from 0.1 to 10000',
    )
    expect(zero.code).toBe(2)
  })

  it('inject should add an external event at --at with the --json overrides', async () => {
    const now = Date.parse((await state()).currentSimulationTime)
    const r = await run([
      'inject',
      'tiktok-mention',
      '--at',
      '+2h',
      '--json',
      '{"title":"Mentioned from the CLI"}',
      ...gw(),
    ])
    expect(r.code, r.stderr).toBe(0)
    const event = JSON.parse(r.stdout)
    expect(event).toMatchObject({ templateId: 'tiktok-mention', title: 'Mentioned from the CLI' })
    // "+2h" is two hours after the simulation's now (read just before)
    const at = Date.parse(event.timestamp)
    expect(at - now).toBeGreaterThanOrEqual(2 * 3_600_000)
    expect(at - now).toBeLessThan(2 * 3_600_000 + 30 * 60_000)
    const listed = await call('GET', '/api/events/external')
    expect(listed.body.events.map((e: { id: string }) => e.id)).toContain(event.id)

    const [badJson, badAt, badTemplate] = await Promise.all([
      run(['inject', 'tiktok-mention', '--json', '{title:1}', ...gw()]),
      run(['inject', 'tiktok-mention', '--at', 'tomorrow', ...gw()]),
      run(['inject', 'no-such-template', ...gw()]),
    ])
    expect(badJson.code).toBe(2)
    expect(badJson.stderr).toContain('--json "{title:1}" is not valid JSON')
    expect(badAt.code).toBe(2)
    expect(badAt.stderr).toContain('--at "tomorrow" is invalid')
    expect(badTemplate.code).toBe(1)
    expect(badTemplate.stderr).toContain(
      'verisim: VS_SIM_BAD_ARGUMENT: templateId: unknown template "no-such-template"',
    )
  })

  it('world actions / act should list and apply the world actions', async () => {
    const list = await run(['world', 'actions', ...gw()])
    expect(list.code, list.stderr).toBe(0)
    expect(JSON.parse(list.stdout).actions.map((a: { name: string }) => a.name)).toContain(
      'spawn_students',
    )
    const tty = fakeIo(true)
    expect(await main(['world', 'actions', ...gw()], tty.io)).toBe(0)
    expect(tty.stdout()).toContain('spawn_students — ')
    expect(tty.stdout()).toContain('count: integer 1…10000, required')

    const before = (await state()).stats.entities.studentsTotal as number
    const act = await run(['world', 'act', 'spawn_students', '--json', '{"count":3}', ...gw()])
    expect(act.code, act.stderr).toBe(0)
    expect(JSON.parse(act.stdout)).toMatchObject({ success: true, result: { spawned: 3 } })
    expect((await state()).stats.entities.studentsTotal).toBe(before + 3)

    const [unknown, refused, notObject] = await Promise.all([
      run(['world', 'act', 'no_such_action', ...gw()]),
      run(['world', 'act', 'spawn_students', '--json', '{"count":0}', ...gw()]),
      run(['world', 'act', 'spawn_students', '--json', '[3]', ...gw()]),
    ])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain(
      'verisim: VS_SIM_UNKNOWN_ACTION: unknown world action "no_such_action"',
    )
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('verisim: VS_SIM_BAD_ARGUMENT: spawn_students: payload /count')
    expect(notObject.code).toBe(2)
    expect(notObject.stderr).toContain('--json "[3]" is invalid; expected a JSON object')
  })

  it('pause should hold the simulation and resume continue it, saying so on a terminal', async () => {
    const tty = fakeIo(true)
    expect(await main(['pause', ...gw()], tty.io)).toBe(0)
    expect(tty.stdout()).toMatch(/^paused at .+ \(simulated\), speed /)
    expect((await state()).paused).toBe(true)
    const r = await run(['resume', ...gw()])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ paused: false })
    expect((await state()).paused).toBe(false)
  })

  it('reset should clear the scenario and the injected events', async () => {
    const r = await run(['reset', ...gw()])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ success: true })
    const s = await state()
    expect(s.scenario).toBeNull()
    expect(s.activeModifiers).toEqual([])
  })

  it('should need the admin token where the gateway sets one, and say so with exit 1', async () => {
    const [none, wrong, right] = await Promise.all([
      run(['speed', '60', '--url', secured]),
      run(['speed', '60', '--url', secured, '--token', 'wrong']),
      run(['speed', '60', '--url', secured], { VERISIM_TOKEN: TOKEN }),
    ])
    expect(none.code).toBe(1)
    expect(none.stderr).toContain(
      'verisim: VS_GW_UNAUTHORIZED: this endpoint needs the admin token',
    )
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('verisim: VS_GW_UNAUTHORIZED: invalid admin token (HTTP 401)')
    expect(right.code, right.stderr).toBe(0)
    expect(JSON.parse(right.stdout).speed).toBe(60)
  })

  it('should exit 1 when the gateway cannot be reached and 2 for a bad --url or --format', async () => {
    const port = await freePort()
    const [unreachable, badUrl, badFormat] = await Promise.all([
      verisim(['state', '--url', `http://127.0.0.1:${port}`]),
      run(['scenarios', '--url', 'http//nope']),
      run(['state', ...gw(), '--format', 'yaml']),
    ])
    expect(unreachable.code).toBe(1)
    expect(unreachable.stderr).toContain(
      `verisim: cannot reach http://127.0.0.1:${port}: connect ECONNREFUSED`,
    )
    expect(badUrl.code).toBe(2)
    expect(badUrl.stderr).toContain('--url "http//nope" is invalid')
    expect(badFormat.code).toBe(2)
    expect(badFormat.stderr).toContain('--format "yaml" is invalid; expected text or json')
  })
})

describe('tail across a gateway restart', () => {
  it('should resume with no event missing and none repeated, and stop on SIGINT with exit 0', async () => {
    const port = new URL(stack.gatewayUrl).port
    const lastIdKey = `${stack.prefix}:{tutoring}:last-id`
    const ndjson = start(['tail', '--url', stack.gatewayUrl, '--retries', '20'])
    const pretty = start([
      'tail',
      '--url',
      stack.gatewayUrl,
      '--retries',
      '20',
      '--format',
      'pretty',
    ])
    await waitFor(() => ndjson.lines().length >= 30 && pretty.lines().length >= 30, 15_000, 'tails')

    // a crash: no close frame, the clients see the connection drop
    await stack.gateway.stop('SIGKILL')
    const atKill = (await stack.redis.get(lastIdKey))!
    const seenAtKill = ndjson.lines().length
    await new Promise((r) => setTimeout(r, 1000))
    // the same port (harness.startGateway picks a new one)
    restarted = startProcess('gateway', {
      REDIS_URL: stack.redisUrl,
      VERISIM_PREFIX: stack.prefix,
      HOST: '127.0.0.1',
      PORT: port,
    })
    await waitReady(`${stack.gatewayUrl}/health/ready`)
    const atRestart = (await stack.redis.get(lastIdKey))!
    expect(compare(atRestart, atKill)).toBeGreaterThan(0)
    // live again: well past what was made while the gateway was down
    await waitFor(
      () => {
        const l = ndjson.lines()
        return l.length > seenAtKill && compare(JSON.parse(l.at(-1)!).id, atRestart) > 0
      },
      20_000,
      'events after the restart',
    )
    await waitFor(() => pretty.stderr().includes('reconnected; resuming after'), 10_000, 'pretty')

    ndjson.signal('SIGINT')
    pretty.signal('SIGINT')
    const [a, b] = await Promise.all([ndjson.done, pretty.done])
    expect(a.code, a.stderr).toBe(0)
    expect(b.code, b.stderr).toBe(0)

    const events = parse(a.stdout.split('\n').slice(0, -1))
    const ids = events.map((e) => e.id)
    expectIncreasing(ids)
    expect(new Set(ids).size).toBe(ids.length)
    // every event Redis holds over the same range, each once
    const held = await stored(ids[0]!, ids.at(-1)!)
    expect(ids.slice(1)).toEqual(held.map((e) => e.id))
    // including those made while the gateway was down
    expect(ids.some((id) => compare(id, atKill) > 0 && compare(id, atRestart) <= 0)).toBe(true)
    // ndjson: silent on stderr; pretty: says what happened
    expect(a.stderr).toBe('')
    expect(b.stderr).toMatch(/connection lost \(.*\); retrying in \d+\.\d s \(attempt 1 of 20\)/)
  }, 60_000)
})

describe('time travel commands', () => {
  const gw = () => ['--url', stack.gatewayUrl]
  it('snapshot save / list / delete, travel (--dry-run), timelines and snapshot restore should drive the time machine', async () => {
    // travels reach back 10 simulated minutes: the run must be older than that
    const deadline = Date.now() + 30_000
    for (;;) {
      const s = await state()
      if (Date.parse(s.currentSimulationTime) - Date.parse(s.startedAt) > 20 * 60_000) break
      if (Date.now() > deadline) throw new Error('the run did not reach 20 simulated minutes')
      await new Promise((r) => setTimeout(r, 200))
    }
    const saved = await run([
      'snapshot',
      'save',
      'from the CLI',
      '--description',
      'a test',
      ...gw(),
    ])
    expect(saved.code, saved.stderr).toBe(0)
    const snap = JSON.parse(saved.stdout) as { id: string; simulatedTime: string; kind: string }
    expect(snap.kind).toBe('manual')
    const tty = fakeIo(true)
    expect(await main(['snapshot', 'list', ...gw()], tty.io)).toBe(0)
    expect(tty.stdout()).toContain(`${snap.id}  `)
    expect(tty.stdout()).toMatch(/saved snapshots? of at most 50/)

    const preview = await run(['travel', snap.simulatedTime, '--dry-run', ...gw()])
    expect(preview.code, preview.stderr).toBe(0)
    expect(JSON.parse(preview.stdout)).toMatchObject({
      dryRun: true,
      targetTime: snap.simulatedTime,
    })
    const previewTty = fakeIo(true)
    expect(
      await main(['travel', '--dry-run', ...gw(), '--', '-10m'], previewTty.io),
      previewTty.stderr(),
    ).toBe(0)
    expect(previewTty.stdout()).toMatch(/^preview +.+ \(nothing switched\)/)

    const unquoted = await run(['travel', '-5m', ...gw()])
    expect(unquoted.code).toBe(2)
    expect(unquoted.stderr).toContain('give a time before now after --, e.g. verisim travel -- -5m')
    const travelled = await run(['travel', ...gw(), '--', '-5m'])
    expect(travelled.code, travelled.stderr).toBe(0)
    const line = JSON.parse(travelled.stdout) as { timeline: { reason: string }; paused: boolean }
    expect(line).toMatchObject({ timeline: { reason: 'travel' }, paused: true })
    const lines = fakeIo(true)
    expect(await main(['timelines', ...gw()], lines.io)).toBe(0)
    expect(lines.stdout()).toMatch(/^\* tl_\d+  travel /)
    expect(lines.stdout()).toContain('back: verisim snapshot restore snap_')

    const restored = fakeIo(true)
    expect(await main(['snapshot', 'restore', snap.id, ...gw()], restored.io)).toBe(0)
    expect(restored.stdout()).toMatch(/^timeline +\d+ \(tl_\d+, restore\)/)
    const deleted = await run(['snapshot', 'delete', snap.id, ...gw()])
    expect(deleted.code, deleted.stderr).toBe(0)
    expect(JSON.parse(deleted.stdout)).toEqual({ deleted: snap.id })

    const [gone, badWhen] = await Promise.all([
      run(['snapshot', 'restore', snap.id, ...gw()]),
      run(['travel', 'yesterday', ...gw()]),
    ])
    expect(gone.code).toBe(1)
    expect(gone.stderr).toContain(`verisim: VS_GEN_UNKNOWN_SNAPSHOT: no saved snapshot ${snap.id}`)
    expect(badWhen.code).toBe(2)
    expect(badWhen.stderr).toContain('travel <when> "yesterday" is invalid')
    expect((await run(['resume', ...gw()])).code).toBe(0)
  }, 60_000)
})
