/**
 * ISO 8601 durations as the scenario and external-event files write them (`PT8H`,
 * `P3D`, `P1DT12H`, `-PT3H`): weeks, days, hours, minutes and seconds only, since
 * years and months have no fixed length in milliseconds.
 */
export { parseIsoDuration, formatIsoDuration } from '@verisim/schema'
