/**
 * The admin page over the archive in real headless Chromium (Debian's
 * `chromium`, driven by playwright-core) against the generator, the gateway and
 * the archiver as real processes (issue 18): an id in the event log opens its
 * journey (the events and milestones the API gives), filtered by type; a
 * replay started from the panel runs to the end with its progress shown; no
 * page error; a screenshot (test-output/admin-archive.png).
 *
 * Skipped, saying so, only when no Chromium is installed.
 */
import path from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { haveChromium, json, OUT, openBrowser, until, type Browser } from './browser.js'
import { startStack, type Stack } from './harness.js'

const chromiumHere = haveChromium('admin-archive.browser.test.ts')

let stack: Stack
let browser: Browser
let page: Page
let pageErrors: string[]

describe.skipIf(!chromiumHere)('admin page: journeys and replay over the archive', () => {
  beforeAll(async () => {
    // (no rate limit: the test reads journeys itself to pick one; limits are tested elsewhere)
    stack = await startStack({
      archive: true,
      env: { VERISIM_SPEED: '300', VERISIM_RATE_LIMIT_MAX: '0' },
    })
    browser = await openBrowser()
    ;({ page, pageErrors } = browser)
  })

  afterAll(async () => {
    await browser?.close()
    await stack?.stop()
  })

  it('should open the journey of an id shown in the event log, as the API gives it, and filter it', async () => {
    const res = await page.goto(`${stack.gatewayUrl}/admin/`)
    expect(res?.ok()).toBe(true)
    // an entity with a few archived events
    let id = ''
    const tried = new Set<string>()
    await until(
      async () => {
        const links = page.locator('#event-log [data-testid="entity-link"]:visible')
        for (const candidate of await links.evaluateAll((els) =>
          els.map((e) => e.getAttribute('data-entity') ?? ''),
        )) {
          if (tried.has(candidate) || tried.size > 200) continue
          tried.add(candidate)
          const j = (await json(`${stack.gatewayUrl}/api/journeys/${candidate}`)).body
          if (j.total < 2) continue
          // clicked in the page at once: the live log may have replaced the row meanwhile
          const clicked = await page
            .locator('#event-log [data-testid="entity-link"]')
            .evaluateAll((els, want) => {
              type Clickable = { offsetParent: unknown; click(): void }
              const link = els.find(
                (e) =>
                  e.getAttribute('data-entity') === want &&
                  (e as unknown as Clickable).offsetParent !== null,
              )
              ;(link as unknown as Clickable | undefined)?.click()
              return link !== undefined
            }, candidate)
          if (clicked) {
            id = candidate
            return true
          }
        }
        // ids seen too early (not archived yet) get another look later
        if (tried.size > 50) tried.clear()
        return false
      },
      'an id in the log with archived events, clicked',
      30_000,
    )
    const panel = page.locator('[data-testid="journey-panel"]')
    await until(
      async () => (await panel.getAttribute('data-status', { timeout: 1000 })) === 'ok',
      'the journey loaded',
    )
    expect(await panel.getAttribute('data-entity')).toBe(id)
    const api = (await json(`${stack.gatewayUrl}/api/journeys/${id}?limit=200`)).body
    const shown = await page.locator('[data-testid="journey-event"]').count()
    // the archive grows meanwhile: at least what the API had, at most what it has now
    expect(shown).toBeGreaterThanOrEqual(Math.min(api.events.length, 2))
    expect(await panel.innerText()).toContain(id)
    if (api.milestones.length > 0) {
      expect(await page.locator('[data-testid="journey-milestone"]').count()).toBeGreaterThan(0)
      expect(await panel.innerText()).toContain(api.milestones[0].label)
    }
    // filter: unchecking one type leaves events of the others only
    const boxes = page.locator('#journey-types input[type="checkbox"]')
    if ((await boxes.count()) >= 2) {
      const dropped = (await boxes.first().getAttribute('data-stream'))!
      await boxes.first().uncheck()
      await until(async () => {
        const streams = await page
          .locator('[data-testid="journey-event"]')
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-stream')))
        return (
          (await panel.getAttribute('data-status')) === 'ok' &&
          streams.length > 0 &&
          !streams.includes(dropped)
        )
      }, 'the journey filtered')
    }
    await page.screenshot({ path: path.join(OUT, 'admin-archive.png'), fullPage: false })
    await page.keyboard.press('Escape')
    await until(
      async () => (await panel.count()) === 0 || !(await panel.isVisible()),
      'the journey closed',
    )
  })

  it('should replay the last simulated hour from the panel and show it to the end', async () => {
    const form = page.locator('[data-testid="replay-panel"]')
    await form.scrollIntoViewIfNeeded()
    await page.locator('[data-testid="replay-speed"]').fill('3600')
    await page.locator('[data-testid="replay-start"]').click()
    const progress = page.locator('[data-testid="replay-progress"]')
    await until(
      async () => (await progress.getAttribute('data-state')) === 'done',
      'the replay done',
      30_000,
    )
    const sent = Number(await progress.getAttribute('data-sent'))
    const total = Number(await progress.getAttribute('data-total'))
    const topic = await page.locator('[data-testid="replay-topic"]').innerText()
    expect(topic).toMatch(/^replay:[a-z0-9]+$/)
    const status = (await json(`${stack.gatewayUrl}/api/streams/replay/${topic.slice(7)}`)).body
    expect(status).toMatchObject({ state: 'done', sent, total })
    expect(total).toBeGreaterThan(0)
    expect(sent).toBe(total)
    expect(pageErrors).toEqual([])
  }, 60_000)
})
