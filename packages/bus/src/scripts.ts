/**
 * The bus's Lua scripts (`src/commands/<name>-<numKeys>.lua`, BullMQ style, each
 * with a KEYS/ARGV header): read once, run with EVALSHA, sent with EVAL when the
 * server does not have them cached yet (a new or restarted Redis).
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'

// src/commands both from src/ (tests) and from dist/ (the build ships src/commands).
const COMMANDS_DIR = new URL('../src/commands/', import.meta.url)

export interface LuaScript {
  readonly name: string
  readonly numKeys: number
  readonly lua: string
  readonly sha: string
}

const loaded = new Map<string, LuaScript>()

/** The script `src/commands/<file>` (`<name>-<numKeys>.lua`). */
export function luaScript(file: string): LuaScript {
  let s = loaded.get(file)
  if (s === undefined) {
    const m = /^(.+)-(\d+)\.lua$/.exec(file)
    if (!m) throw new Error(`Lua script file ${JSON.stringify(file)} is not <name>-<numKeys>.lua`)
    const lua = readFileSync(new URL(file, COMMANDS_DIR), 'utf8')
    s = {
      name: m[1] as string,
      numKeys: Number(m[2]),
      lua,
      sha: createHash('sha1').update(lua).digest('hex'),
    }
    loaded.set(file, s)
  }
  return s
}

/** Runs `script` with its keys and arguments (one atomic step on the server). */
export async function runScript(
  redis: Redis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  if (keys.length !== script.numKeys)
    throw new Error(`${script.name} takes ${script.numKeys} keys, got ${keys.length}`)
  try {
    return await redis.evalsha(script.sha, script.numKeys, ...keys, ...args)
  } catch (err) {
    if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err
    return redis.eval(script.lua, script.numKeys, ...keys, ...args)
  }
}
