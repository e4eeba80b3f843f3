#!/usr/bin/env node
/** The `verisim` binary. */
import { fileURLToPath } from 'node:url'
import { flagsToRerunWith, rerunWithFlags } from './lib/heap.js'

const argv = process.argv.slice(2)
const flags = flagsToRerunWith(argv)
if (flags) {
  // `generate` wants node flags this process was started without (lib/heap.ts)
  process.exitCode = await rerunWithFlags(flags, fileURLToPath(import.meta.url), argv)
} else {
  // The reader went away (`verisim generate | head`): stop quietly, as Unix tools do.
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(Number(process.exitCode ?? 0))
      if (stream !== process.stderr)
        process.stderr.write(
          `verisim: cannot write to standard output: ${err.code ?? err.message}\n`,
        )
      process.exit(1)
    })

  const { main } = await import('./program.js')
  main(argv).then(
    (code) => {
      process.exitCode = code
    },
    (err: unknown) => {
      process.stderr.write(
        `verisim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      )
      process.exitCode = 1
    },
  )
}
