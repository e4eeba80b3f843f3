/**
 * Builds the admin page to static files in dist/, served by the gateway at
 * /admin. Preact's JSX goes through Vite's own esbuild transform (no Babel);
 * the CSS is inlined into index.html, and every asset is also written gzip-
 * and brotli-compressed so the gateway can send the precompressed file
 * (`@fastify/static` `preCompressed`).
 */
import { promisify } from 'node:util'
import { brotliCompress, constants, gzip } from 'node:zlib'
import { defineConfig, type Plugin } from 'vite'

const gz = promisify(gzip)
const br = promisify(brotliCompress)

/**
 * Inlines the stylesheet into index.html (no render-blocking request before the
 * first paint), then emits `<file>.gz` and `<file>.br` beside every text asset.
 */
function finish(): Plugin {
  return {
    name: 'verisim-finish',
    apply: 'build',
    enforce: 'post',
    async generateBundle(_options, bundle) {
      const html = bundle['index.html']
      if (html?.type === 'asset') {
        let text = String(html.source)
        for (const [name, file] of Object.entries(bundle)) {
          if (file.type !== 'asset' || !name.endsWith('.css')) continue
          let inlined = false
          text = text.replace(/<link rel="stylesheet"[^>]*>/g, (tag) => {
            if (!tag.includes(`/${name}"`)) return tag
            inlined = true
            return `<style>${String(file.source)}</style>`
          })
          if (inlined) delete bundle[name]
        }
        html.source = text
      }
      for (const file of Object.values(bundle)) {
        if (!/\.(js|css|html|svg|json)$/.test(file.fileName)) continue
        const source = file.type === 'chunk' ? file.code : file.source
        const buf = Buffer.from(source)
        const [g, b] = await Promise.all([
          gz(buf, { level: 9 }),
          br(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        ])
        this.emitFile({ type: 'asset', fileName: `${file.fileName}.gz`, source: g })
        this.emitFile({ type: 'asset', fileName: `${file.fileName}.br`, source: b })
      }
    },
  }
}

/** Gateway the dev server forwards the API and streams to (`pnpm dev`). */
const gateway = process.env.VERISIM_GATEWAY ?? 'http://127.0.0.1:8080'

export default defineConfig({
  base: '/admin/',
  server: {
    proxy: {
      '/api': gateway,
      '/sse': gateway,
      '/ws': { target: gateway, ws: true },
    },
  },
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // One small page: a single JS and CSS file load faster than a split graph.
    modulePreload: false,
    assetsInlineLimit: 4096,
  },
  plugins: [finish()],
})
