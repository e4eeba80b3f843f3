/**
 * The admin page at /admin: the static files `@verisim/dashboard` builds.
 * Found beside the gateway in its Docker image (`public/admin`, copied there
 * by Dockerfile.gateway) or in the workspace (`packages/dashboard/dist`); the
 * gateway does not depend on the dashboard package at run time. Without a
 * build, /admin answers 503 saying how to make one. Hashed assets are cached
 * for a year, index.html never; precompressed .br/.gz files are preferred.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'

export interface AdminRoutesOptions {
  /** Folder holding the built page (index.html + assets/); found automatically when not given. */
  root?: string
}

const here = path.dirname(fileURLToPath(import.meta.url))

/** Where the built page may be, in order: the Docker image's copy, then the workspace's build. */
export const ADMIN_CANDIDATES = [
  path.resolve(here, '../../../public/admin'),
  path.resolve(here, '../../../../../packages/dashboard/dist'),
]

export function findAdminRoot(candidates: readonly string[] = ADMIN_CANDIDATES): string | null {
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html'))) ?? null
}

const admin: FastifyPluginAsync<AdminRoutesOptions> = async (app, opts) => {
  const root = opts.root ?? findAdminRoot()
  const hide = { schema: { hide: true } }

  if (root === null || !existsSync(path.join(root, 'index.html'))) {
    const where = opts.root ?? ADMIN_CANDIDATES.join(' or ')
    app.log.warn(
      { looked: where },
      'admin page not built: /admin answers 503 until `pnpm build` has run',
    )
    const notBuilt = async (_req: unknown, reply: FastifyReply) =>
      reply.code(503).send({
        error: {
          code: 'VS_GW_ADMIN_NOT_BUILT',
          message: `the admin page is not built: run \`pnpm build\` (it builds packages/dashboard to dist/), then restart the gateway; looked in ${where}`,
        },
      })
    app.get('/admin', hide, notBuilt)
    app.get('/admin/*', hide, notBuilt)
    return
  }

  await app.register(fastifyStatic, {
    root,
    prefix: '/admin/',
    index: ['index.html'],
    preCompressed: true,
    decorateReply: false,
    dotfiles: 'ignore',
    cacheControl: false,
    setHeaders(reply, file) {
      reply.header(
        'cache-control',
        file.includes(`${path.sep}assets${path.sep}`)
          ? 'public, max-age=31536000, immutable'
          : 'no-cache',
      )
    },
  })
  // /admin → /admin/, where the page lives.
  app.get('/admin', hide, async (req, reply) => {
    const q = req.url.indexOf('?')
    return reply.redirect(`/admin/${q === -1 ? '' : req.url.slice(q)}`, 301)
  })
}

export default admin
