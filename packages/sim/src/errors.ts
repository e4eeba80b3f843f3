/**
 * Errors of the simulation engine. Every error carries a stable `code` from
 * {@link SimErrorCode} (prefix `VS_SIM_`), the underlying `cause` when there is one,
 * and `canRetry` (false for all of them: a bad world stays bad until it is fixed).
 */

export const SimErrorCode = {
  worldNotFound: 'VS_SIM_WORLD_NOT_FOUND',
  worldInvalidJson: 'VS_SIM_WORLD_INVALID_JSON',
  worldInvalid: 'VS_SIM_WORLD_INVALID',
  badArgument: 'VS_SIM_BAD_ARGUMENT',
  /** No scenario with that id in the world (HTTP 404). */
  unknownScenario: 'VS_SIM_UNKNOWN_SCENARIO',
  /** A scenario is active or settling: one at a time (HTTP 409). */
  scenarioActive: 'VS_SIM_SCENARIO_ACTIVE',
  /** Stop with no active scenario (HTTP 409). */
  noActiveScenario: 'VS_SIM_NO_ACTIVE_SCENARIO',
  /** No external event with that id (HTTP 404). */
  unknownEvent: 'VS_SIM_UNKNOWN_EVENT',
  /** No active manual modifier (adjust_behavior) with that id (HTTP 404). */
  unknownModifier: 'VS_SIM_UNKNOWN_MODIFIER',
  /** No world action with that name in the running world (HTTP 404). */
  unknownAction: 'VS_SIM_UNKNOWN_ACTION',
} as const
export type SimErrorCode = (typeof SimErrorCode)[keyof typeof SimErrorCode]

export class SimError extends Error {
  readonly code: SimErrorCode
  readonly canRetry: boolean = false
  constructor(code: SimErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SimError'
    this.code = code
  }
}

/**
 * A world configuration problem: names the file, the JSON path inside it (JSON
 * Pointer, `''` for the whole document) and what was expected there.
 *
 * @example
 * // config/worlds/tutoring/streams.json at /streams/3/cadence: expected one of "high" | "medium" | "low", found "fast"
 */
export class WorldConfigError extends SimError {
  readonly file: string
  readonly path: string
  readonly expected: string
  constructor(
    code: SimErrorCode,
    file: string,
    path: string,
    expected: string,
    found?: string,
    options?: { cause?: unknown },
  ) {
    const where = path === '' ? '(root)' : path
    super(
      code,
      `${file} at ${where}: expected ${expected}${found === undefined ? '' : `, found ${found}`}`,
      options,
    )
    this.name = 'WorldConfigError'
    this.file = file
    this.path = path
    this.expected = expected
  }
}
