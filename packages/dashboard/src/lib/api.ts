/**
 * The REST side of the page: JSON requests to the gateway with the contract's
 * error shape, the admin token (asked for on a 401, kept in sessionStorage),
 * an `Idempotency-Key` on every mutation, and a distinct error for endpoints
 * this server does not serve (so a panel can say so instead of breaking).
 */

const TOKEN_KEY = 'verisim:adminToken'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** True when the server does not serve this endpoint (404 "no route", 501). */
    readonly unavailable = false,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export function isUnavailable(err: unknown): boolean {
  return err instanceof ApiError && err.unavailable
}

/** Message to show for any error thrown by a request. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.unavailable ? 'not available on this server' : err.message
  if (err instanceof Error) return err.message
  return String(err)
}

/** A random id for Idempotency-Key (crypto.randomUUID needs a secure context; this does not). */
export function randomKey(): string {
  const b = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}

export const tokenStore = {
  get(): string | null {
    try {
      return sessionStorage.getItem(TOKEN_KEY)
    } catch {
      return null
    }
  },
  set(token: string | null): void {
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token)
      else sessionStorage.removeItem(TOKEN_KEY)
    } catch {
      // storage disabled: the token lives only as long as this call chain
    }
  },
}

export interface ApiOptions {
  /** Origin of the gateway; '' for the page's own. */
  base?: string
  /**
   * Called on a 401: resolves with a token to retry with, or null to give up.
   * `message` is the gateway's reason (missing or invalid token).
   */
  askToken?: (message: string) => Promise<string | null>
  /** Called whenever a token was accepted (to reconnect the live client with it). */
  onToken?: (token: string) => void
  fetch?: typeof fetch
}

export interface Api {
  get<T>(path: string, query?: Record<string, string | undefined>): Promise<T>
  post<T>(path: string, body?: unknown): Promise<T>
  delete<T>(path: string): Promise<T>
}

interface ErrorBody {
  error?: { code?: string; message?: string }
}

export function createApi(opts: ApiOptions = {}): Api {
  const base = opts.base ?? ''
  const doFetch =
    opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init))

  async function request<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
    idem?: string,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: 'application/json' }
      const token = tokenStore.get()
      if (token) headers.authorization = `Bearer ${token}`
      if (body !== undefined) headers['content-type'] = 'application/json'
      if (idem) headers['idempotency-key'] = idem
      let res: Response
      try {
        res = await doFetch(`${base}${path}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        })
      } catch (err) {
        throw new ApiError(0, 'VS_UI_NETWORK', `gateway unreachable: ${(err as Error).message}`)
      }
      const text = await res.text()
      let json: unknown = null
      try {
        json = text ? JSON.parse(text) : null
      } catch {
        // not JSON: handled below by status
      }
      if (res.ok) {
        if (token && method !== 'GET') opts.onToken?.(token)
        return json as T
      }
      const e = (json as ErrorBody | null)?.error
      const code = e?.code ?? `HTTP_${res.status}`
      const message = e?.message ?? `${res.status} ${res.statusText || 'error'}`
      if (res.status === 401 && opts.askToken && attempt < 3) {
        const next = await opts.askToken(message)
        if (next === null)
          throw new ApiError(401, code, 'the admin token is needed for this action')
        tokenStore.set(next)
        continue
      }
      const unavailable =
        (res.status === 404 && code === 'VS_GW_NOT_FOUND' && /^no route /.test(message)) ||
        res.status === 501 ||
        /NOT_SUPPORTED$/.test(code)
      throw new ApiError(res.status, code, message, unavailable)
    }
  }

  return {
    get<T>(path: string, query?: Record<string, string | undefined>) {
      const q = query
        ? Object.entries(query)
            .filter((kv): kv is [string, string] => kv[1] !== undefined && kv[1] !== '')
            .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
            .join('&')
        : ''
      return request<T>('GET', q ? `${path}?${q}` : path)
    },
    post<T>(path: string, body?: unknown) {
      return request<T>('POST', path, body, randomKey())
    },
    delete<T>(path: string) {
      return request<T>('DELETE', path, undefined, randomKey())
    },
  }
}
