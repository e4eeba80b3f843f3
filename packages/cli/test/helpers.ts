/** Running the CLI in-process with captured output, and as a real process. */
import { spawnSync } from 'node:child_process'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { main } from '../src/program.js'

export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

class Capture extends Writable {
  text = ''
  isTTY = false
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString()
    done()
  }
}

/** `verisim <argv>` in this process: exit code and what it wrote. */
export async function run(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = process.cwd()) {
  const stdout = new Capture()
  const stderr = new Capture()
  const code = await main(argv, { stdout, stderr, env, cwd })
  return { code, stdout: stdout.text, stderr: stderr.text }
}

/** `verisim <argv>` as a real process (the built binary). */
export function runBin(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = process.cwd()) {
  const r = spawnSync(process.execPath, [BIN, ...argv], {
    cwd,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'buffer',
    maxBuffer: 1 << 30,
    timeout: 120_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() }
}
