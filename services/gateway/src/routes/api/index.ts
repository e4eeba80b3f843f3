/** REST reads: the stream catalog and the simulation state. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { StreamInfoSchema } from '@verisim/schema'
import { readEpoch } from '@verisim/bus'
import { ErrorBody, NotReadyError } from '../../errors.js'

const api: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/streams',
    { schema: { response: { 200: Type.Object({ streams: Type.Array(StreamInfoSchema) }), 503: ErrorBody } } },
    async () => {
      const reason = app.streams.notReadyReason()
      if (reason !== null) throw new NotReadyError(`gateway not ready: ${reason}`)
      return { streams: [...app.streams.catalog()] }
    },
  )
  app.get(
    '/api/simulation/state',
    {
      schema: {
        response: { 200: Type.Object({}, { additionalProperties: true }), 503: ErrorBody },
      },
    },
    async () => {
    const raw = await app.redis.get(app.streams.keys.state)
    if (raw === null) throw new NotReadyError('no simulation state yet: is the generator running?')
    const epoch = await readEpoch(app.redis, app.streams.keys)
    return { ...(JSON.parse(raw) as object), epoch: epoch?.epoch ?? null }
    },
  )
}

export default api
