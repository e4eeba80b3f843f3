/**
 * What the browser tests share: Debian's Chromium driven by playwright-core (no
 * browser is ever downloaded), launched headless with a throwaway profile, a
 * page that records its errors and Content-Security-Policy violations, and the
 * small helpers the tests poll and read with.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const here = path.dirname(fileURLToPath(import.meta.url))
/** Screenshots go here. */
export const OUT = path.resolve(here, '../test-output')
const DIST = path.resolve(here, '../../../packages/dashboard/dist/index.html')

/** Whether Chromium is installed; when not, says that `file` is skipped and why. */
export function haveChromium(file: string): boolean {
  if (existsSync(CHROMIUM)) return true
  console.warn(
    `${file} SKIPPED: no Chromium at ${CHROMIUM} (install Debian's "chromium" package, or set CHROMIUM_PATH)`,
  )
  return false
}

export interface Browser {
  context: BrowserContext
  page: Page
  /** Uncaught page errors and Content-Security-Policy violations, as they happen. */
  pageErrors: string[]
  close(): Promise<void>
}

/** Chromium with a fresh profile and one 1280×900 page; throws when the admin page is not built. */
export async function openBrowser(): Promise<Browser> {
  if (!existsSync(DIST))
    throw new Error(`the admin page is not built (${DIST} missing): run \`pnpm build\` first`)
  mkdirSync(OUT, { recursive: true })
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'vs-chromium-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
  })
  const page = context.pages()[0] ?? (await context.newPage())
  const pageErrors: string[] = []
  page.on('pageerror', (err) => pageErrors.push(err.message))
  // The gateway's Content-Security-Policy (issue 14) must not block anything the page does.
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) pageErrors.push(m.text())
  })
  return {
    context,
    page,
    pageErrors,
    async close() {
      await context.close()
      rmSync(userDataDir, { recursive: true, force: true })
    },
  }
}

/** A JSON request: its status and parsed body (null when empty). */
export async function json<T = Record<string, any>>(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: T }> {
  const r = await fetch(url, init)
  const text = await r.text()
  return { status: r.status, body: (text ? JSON.parse(text) : null) as T }
}

/** Polls `fn` every 100 ms until it returns a truthy value (errors count as not yet). */
export async function until<T>(
  fn: () => Promise<T>,
  what: string,
  timeoutMs = 15_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v as NonNullable<T>
      last = v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what} (last: ${String(last)})`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
