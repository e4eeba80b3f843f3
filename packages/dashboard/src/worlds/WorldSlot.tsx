/**
 * Where world panels go on the page: loads the running world (`GET /api/world`,
 * retried while the generator has not written it) and renders the panels
 * registered for its id (./index.ts).
 */
import { useApp } from '../components/context.js'
import { useSignal } from '../lib/signal.js'
import { panelsFor } from './index.js'

export function WorldSlot() {
  const app = useApp()
  const world = useSignal(app.world)
  if (world.status === 'ok') {
    return (
      <>
        {panelsFor(world.data.id).map((Panel, i) => (
          <Panel key={i} world={world.data} />
        ))}
      </>
    )
  }
  return (
    <section class="panel wide" aria-labelledby="world-panel-h" id="world-panel">
      <h2 id="world-panel-h">World</h2>
      {world.status === 'loading' ? <p class="empty">Loading the world…</p> : null}
      {world.status === 'unavailable' ? (
        <p class="empty unavailable" data-unavailable>
          The world description is not available on this server.
        </p>
      ) : null}
      {world.status === 'error' ? (
        <p class="empty error">
          Could not load the world: {world.message}{' '}
          <button type="button" class="link" onClick={() => void app.loadWorld()}>
            Retry
          </button>
        </p>
      ) : null}
    </section>
  )
}
