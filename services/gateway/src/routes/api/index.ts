/** REST reads: the stream catalog, and the history (./history.ts, query strings read by ./history-query.ts). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { StreamInfoSchema } from '@verisim/schema'
import { ErrorBody, NotReadyError } from '../../errors.js'
import history from './history.js'

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
}

export default api
