/**
 * REST reads: the stream catalog, the history (./history.ts, query strings read
 * by ./history-query.ts) and recent events (./recent-events.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { StreamInfoSchema } from '@verisim/schema'
import { ErrorBody, NotReadyError } from '../../errors.js'
import history from './history.js'
import recentEvents from './recent-events.js'

const api: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/streams',
    {
      schema: {
        response: { 200: Type.Object({ streams: Type.Array(StreamInfoSchema) }), 503: ErrorBody },
      },
    },
    async () => {
      const reason = app.streams.notReadyReason()
      if (reason !== null) throw new NotReadyError(`gateway not ready: ${reason}`)
      return { streams: [...app.streams.catalog()] }
    },
  )

  await app.register(history)
  await app.register(recentEvents)
}

export default api
