/**
 * Runs one measurement in a fresh Node process (so JIT and GC state never carry
 * over between measurements) and resolves with the JSON object on the last line
 * of its stdout (`opts.wrap`: a command to run node through, like taskset); rejects naming the exit code and the first lines of its output.
 */
import { spawn } from 'node:child_process'

export function runJsonChild(args, opts = {}) {
  // `wrap`: a command to run node through, e.g. ['taskset', '-c', '0']
  const { wrap = [], ...spawnOpts } = opts
  return new Promise((resolve, reject) => {
    const [cmd, ...pre] = [...wrap, process.execPath]
    const child = spawn(cmd, [...pre, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOpts })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      const line = out.trim().split('\n').at(-1)
      if (code === 0 && line) {
        try {
          return resolve(JSON.parse(line))
        } catch {
          // not JSON: reported below
        }
      }
      const why = (err.trim() || out.trim()).split('\n').slice(0, 6).join(' | ')
      reject(new Error(`measurement exited with ${signal ?? code}: ${why || 'no output'}`))
    })
  })
}
