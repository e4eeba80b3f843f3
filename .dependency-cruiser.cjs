/**
 * The architecture, checked by `pnpm lint` (dependency-cruiser):
 *
 *   packages/sim       knows no world (worlds/*, @verisim/world-*, the @verisim/worlds registry)
 *   worlds/<name>/src  imports only @verisim/sim, @verisim/schema, typebox, node built-ins, itself
 *   services/*         never import each other: they meet through Redis (@verisim/bus)
 *   client, dashboard  never import the bus (nor ioredis, bullmq)
 *   every package      reaches another only through its `exports` map
 *   no import circles  (packages/sim's types live in a leaf, world/types.ts)
 *
 * `@verisim/*` imports resolve to the packages' sources (tsconfig.depcruise.json
 * maps each name, and each subpath export, to its file under `src/`), so the
 * rules see files under the repository whether or not `dist/` is built;
 * type-only imports count too.
 */

/** Workspace package folders: packages/<pkg>, services/<svc>, worlds/<world>, tests/<suite>. */
const WORKSPACE = '(packages|services|worlds|tests)/[^/]+'
/**
 * An npm package `name`, resolved into node_modules (a plain install or pnpm's
 * `.pnpm/<id>/node_modules/<name>/`) or, when it cannot be resolved, the bare name.
 */
const npm = (name) => `(^|/)node_modules/${name}/|^${name}($|/)`

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'kernel-knows-no-world',
      severity: 'error',
      comment:
        'packages/sim is the world-agnostic kernel: worlds plug into it, it never reaches into one ' +
        '(nor into @verisim/worlds, the registry that knows them all). ' +
        'A world-specific rule belongs in that world (worlds/<name>), handed to the kernel through its WorldModule.',
      from: { path: '^packages/sim/' },
      to: {
        path: [
          '^worlds/',
          '^packages/worlds/',
          npm('@verisim/world-[^/]+'),
          npm('@verisim/worlds'),
        ],
      },
    },
    {
      name: 'world-imports-only-kernel',
      severity: 'error',
      comment:
        'A world is content for the kernel: it may use @verisim/sim, @verisim/schema, typebox, node built-ins and its own files. ' +
        'Not the bus, a service, the client, the dashboard or another world: that would tie the world to one deployment ' +
        'and make it impossible to load two worlds side by side.',
      from: { path: '^worlds/([^/]+)/src/' },
      to: {
        dependencyTypesNot: ['core'],
        pathNot: ['^worlds/$1/src/', '^packages/(sim|schema)/src/index\\.ts$', npm('typebox')],
      },
    },
    {
      name: 'services-meet-through-redis',
      severity: 'error',
      comment:
        'Services (gateway, generator, archiver…) are separate processes that scale and restart on their own; ' +
        'they share keys and streams in Redis through @verisim/bus, never code from each other. ' +
        'Move what two services need into a package (bus, schema).',
      from: { path: '^services/([^/]+)/' },
      to: {
        path: ['^services/', npm('@verisim/(gateway|generator|archiver)')],
        pathNot: '^services/$1/',
      },
    },
    {
      name: 'client-dashboard-no-bus',
      severity: 'error',
      comment:
        'The client SDK and the admin page run in browsers and customer apps and talk to the gateway over HTTP, WebSocket and SSE; ' +
        'Redis and its key layout are a server-side detail. Share types through @verisim/schema instead.',
      from: { path: '^packages/(client|dashboard)/' },
      to: { path: ['^packages/bus/', npm('@verisim/bus'), npm('ioredis'), npm('bullmq')] },
    },
    {
      name: 'no-package-internals',
      severity: 'error',
      comment:
        "Packages meet through their `exports` map (import '@verisim/<name>'), the one door a package keeps stable. " +
        "A relative path into another package's src/ or dist/ (or a deep '@verisim/<name>/src/…' import) bypasses it, " +
        'breaks when that package moves a file, and for dist/ reads whatever was built last.',
      from: { path: `^(${WORKSPACE}|bench)/` },
      to: {
        path: [
          `^${WORKSPACE}/(src|dist)/`,
          // Unresolved (e.g. dist/ not built yet): the path as written.
          '^@verisim/[^/]+/(src|dist)/',
          '^(\\.\\./)+(packages|services|worlds|tests)/[^/]+/(src|dist)/',
          '^(\\.\\./){2,}[^/]+/(src|dist)/',
        ],
        pathNot: '^$1/',
        dependencyTypesNot: ['aliased'],
      },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import circle makes module load order matter and the pieces impossible to understand or test apart.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    // Dependencies of npm packages and of built output are not ours to check.
    doNotFollow: { path: ['(^|/)node_modules/', '(^|/)dist/'] },
    // Type-only imports are dependencies too (a type from the bus in the dashboard is still the bus).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.depcruise.json' },
    // Each workspace package has its own package.json; the root's devDependencies count for all.
    combinedDependencies: true,
    enhancedResolveOptions: {
      // npm packages resolve as Node would (their `exports`, ESM first), so rules see their real paths.
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      mainFields: ['module', 'main'],
    },
  },
}
