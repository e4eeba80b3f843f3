/**
 * Runs one measurement in a fresh Node process (so JIT and GC state never carry
 * over between measurements) and resolves with the JSON object on the last line
 * of its stdout; rejects naming the exit code and the first lines of its output.
 */
import { spawn } from 'node:child_process'

export function runJsonChild(args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts })
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
