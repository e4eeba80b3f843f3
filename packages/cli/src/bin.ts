#!/usr/bin/env node
/** The `verisim` binary. */
import { main } from './program.js'

// The reader went away (`verisim generate | head`): stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(Number(process.exitCode ?? 0))
    if (stream !== process.stderr)
      process.stderr.write(`verisim: cannot write to standard output: ${err.code ?? err.message}\n`)
    process.exit(1)
  })

main(process.argv.slice(2)).then(
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
