// Unit tests of the page's pure logic run in Node; the page itself is tested in
// real Chromium by tests/integration/test/admin.browser.test.ts.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: { environment: 'node', include: ['test/**/*.test.ts'] },
})
