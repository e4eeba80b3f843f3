/**
 * A running simulator as the client commands (`tail`, `state`, `scenario` …)
 * reach it: the `--url` / `--token` options they share, and one JSON request
 * helper whose failures carry the gateway's own `VS_*` code and message.
 */
import type { Command } from 'commander'
import { CliFailure, UsageError } from '../errors.js'

export const DEFAULT_URL = 'http://127.0.0.1:8080'

/** Ceiling for one REST call; the gateway itself answers 504 after 10 s without the generator. */
const REQUEST_TIMEOUT_MS = 15_000

export interface ServerFlags {
  url?: string
  token?: string
}

export interface Server {
  /** The gateway's base URL (a path prefix kept, no trailing slash), as given. */
  base: string
  token: string | undefined
}

/** Adds `--url` and `--token` to a command. */
export function addServerOptions(cmd: Command): Command {
  return cmd
    .option(
      '--url <http(s)://host:port>',
      `the gateway (default: $VERISIM_URL, else ${DEFAULT_URL})`,
    )
    .option(
      '--token <token>',
      'admin token, when the gateway sets ADMIN_TOKEN (default: $VERISIM_TOKEN)',
    )
}

/** The gateway to talk to: the flags, then $VERISIM_URL / $VERISIM_TOKEN, then the default. */
export function serverSettings(opts: ServerFlags, env: NodeJS.ProcessEnv): Server {
  const fromEnv = opts.url === undefined && !!env.VERISIM_URL
  const raw = opts.url ?? (env.VERISIM_URL || DEFAULT_URL)
  const base = parseBaseUrl(raw, fromEnv ? 'VERISIM_URL' : '--url')
  const token = opts.token ?? (env.VERISIM_TOKEN || undefined)
  return { base, token: token === '' ? undefined : token }
}

function parseBaseUrl(raw: string, name: string): string {
  let u: URL | null = null
  try {
    u = new URL(raw)
  } catch {
    u = null
  }
  if (
    u === null ||
    (u.protocol !== 'http:' && u.protocol !== 'https:') ||
    u.hostname === '' ||
    u.search !== '' ||
    u.hash !== '' ||
    u.username !== '' ||
    u.password !== ''
  )
    throw new UsageError(
      `${name === '--url' ? '--url ' : `${name}=`}${JSON.stringify(raw)} is invalid; expected http(s)://host:port, e.g. ${DEFAULT_URL}`,
    )
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`
}

/** `ws(s)://…/ws` beside the REST API. */
export function wsEndpoint(server: Server): string {
  return `${server.base.replace(/^http/, 'ws')}/ws`
}

/** An answer the gateway refused: its `{"error":{"code","message"}}` kept as it is. */
export class ServerError extends CliFailure {
  override name = 'ServerError'
  constructor(
    readonly code: string,
    readonly serverMessage: string,
    readonly status: number,
  ) {
    super(`${code}: ${serverMessage} (HTTP ${status})`)
  }
}

/**
 * One JSON request to the gateway, with the admin token as `Authorization: Bearer`.
 * Resolves with the parsed answer; throws {@link ServerError} for the gateway's
 * error answers, CliFailure when it cannot be reached.
 *
 * @example
 * const state = await requestJson(server, 'GET', '/api/simulation/state')
 */
export async function requestJson(
  server: Server,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (server.token !== undefined) headers.authorization = `Bearer ${server.token}`
  const url = `${server.base}${path}`
  let res: Response
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (err) {
    const e = err as Error & { cause?: Error & { code?: string } }
    if (e.name === 'TimeoutError')
      throw new CliFailure(`${method} ${url}: no answer within ${timeoutMs / 1000} s`)
    throw new CliFailure(`cannot reach ${server.base}: ${e.cause?.message ?? e.message}`)
  }
  const text = await res.text()
  let parsed: unknown = undefined
  try {
    parsed = text === '' ? undefined : JSON.parse(text)
  } catch {
    parsed = undefined
  }
  if (!res.ok) {
    const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error
    if (typeof error?.code === 'string')
      throw new ServerError(
        error.code,
        typeof error.message === 'string' ? error.message : error.code,
        res.status,
      )
    throw new CliFailure(
      `${method} ${url}: HTTP ${res.status}${text ? `: ${text.slice(0, 300)}` : ''}`,
    )
  }
  if (parsed === undefined)
    throw new CliFailure(`${method} ${url}: the answer is not JSON: ${text.slice(0, 300)}`)
  return parsed
}
