/**
 * The two ways a command fails: a bad command line (exit 2, the message names
 * the flag and the expected form) and a failure while running (exit 1).
 */

/** A bad command line: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** A failure while running (a server's refusal, an unwritable file …): exit code 1. */
export class CliFailure extends Error {
  override name = 'CliFailure'
}

export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2
