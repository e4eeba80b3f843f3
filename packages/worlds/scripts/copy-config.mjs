#!/usr/bin/env node
/**
 * `prepack`: copies the repository's `config/worlds` into this package's
 * `config/`, so the published @verisim/worlds loads its worlds without the
 * repository (DEFAULT_WORLDS_DIR falls back to it when there is no repository
 * around). `postpack` (`--remove`) deletes the copy again.
 */
import { cpSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const target = fileURLToPath(new URL('../config', import.meta.url))
rmSync(target, { recursive: true, force: true })
if (!process.argv.includes('--remove')) {
  cpSync(fileURLToPath(new URL('../../../config/worlds', import.meta.url)), target, {
    recursive: true,
  })
}
