/**
 * Errors of reading the history: codes as an `as const` list (`VS_BUS_HISTORY_…`),
 * the parameter at fault for a bad request, and whether trying again may help.
 */

export const HistoryErrorCode = {
  notReady: 'VS_BUS_HISTORY_NOT_READY',
  badQuery: 'VS_BUS_HISTORY_BAD_QUERY',
  unknownVersion: 'VS_BUS_HISTORY_UNKNOWN_VERSION',
} as const
export type HistoryErrorCode = (typeof HistoryErrorCode)[keyof typeof HistoryErrorCode]

export class HistoryError extends Error {
  readonly code: HistoryErrorCode
  /** The request parameter at fault, for `badQuery` and `unknownVersion`. */
  readonly param: string | null
  /** True when the same request may succeed later (history still being generated). */
  readonly canRetry: boolean

  constructor(
    code: HistoryErrorCode,
    message: string,
    opts: { param?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'HistoryError'
    this.code = code
    this.param = opts.param ?? null
    this.canRetry = code === HistoryErrorCode.notReady
  }
}
