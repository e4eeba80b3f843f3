/**
 * Hourly counts per stream and anomaly flag, kept by the same transaction that
 * archives the events (only rows actually added count), so aggregates over
 * days and weeks read a few thousand rows instead of millions. Filled from the
 * events already archived when this migration runs.
 */

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export const up = (pgm) => {
  pgm.sql(`
    CREATE TABLE events_hourly (
      hour         timestamptz      NOT NULL,
      epoch        text             NOT NULL,
      world        text             NOT NULL,
      stream       text             NOT NULL,
      channel      text             NOT NULL,
      anomaly_flag text             NOT NULL,
      n            bigint           NOT NULL,
      value_sum    double precision NOT NULL,
      PRIMARY KEY (hour, epoch, stream, anomaly_flag)
    );
    COMMENT ON TABLE events_hourly IS 'Events per simulated hour, stream and anomaly flag (value_sum: the sum of normalizedValue)';
    CREATE INDEX events_hourly_epoch_hour ON events_hourly (epoch, hour);

    INSERT INTO events_hourly (hour, epoch, world, stream, channel, anomaly_flag, n, value_sum)
    SELECT date_trunc('hour', ts), epoch, min(world), stream, min(channel), anomaly_flag, count(*),
           coalesce(sum(value), 0)
    FROM events GROUP BY 1, 2, 4, 6;
  `)
}

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export const down = (pgm) => {
  pgm.sql('DROP TABLE events_hourly')
}
