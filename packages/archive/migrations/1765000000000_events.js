/**
 * The archive's first version: every event of every channel, partitioned by
 * simulated day, keyed by (epoch, id, timestamp) so a batch written twice (a
 * crash between commit and acknowledgement) adds nothing the second time. The
 * envelope is `json` (stored as text: the cheapest to write; read with ->).
 *
 * Partitions are made on demand by `archive_ensure_day(day)`, called before a
 * batch that reaches a new day (concurrent callers are fine).
 */

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export const up = (pgm) => {
  pgm.sql(`
    CREATE TABLE events (
      epoch        text        NOT NULL,
      id           text        NOT NULL,
      id_ms        bigint      NOT NULL,
      id_seq       bigint      NOT NULL,
      ts           timestamptz NOT NULL,
      world        text        NOT NULL,
      channel      text        NOT NULL,
      stream       text        NOT NULL,
      anomaly_flag text        NOT NULL,
      value        real,
      entities     text[]      NOT NULL DEFAULT '{}',
      envelope     json        NOT NULL,
      archived_at  timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (epoch, id_ms, id_seq, ts)
    ) PARTITION BY RANGE (ts);

    COMMENT ON TABLE events IS 'Every event Verisim published (Redis entry id + epoch), one partition per simulated UTC day';
    COMMENT ON COLUMN events.value IS 'The envelope''s normalizedValue (0-100)';
    COMMENT ON COLUMN events.entities IS 'The ids this event is about (the world module''s entity fields)';
    COMMENT ON COLUMN events.envelope IS 'The envelope as published (json: kept as text, read with ->)';

    -- the primary key serves publication order per epoch (paging, replay);
    -- these serve time ranges per stream and lookups by entity id
    CREATE INDEX events_stream_ts ON events (stream, ts);
    -- a small pending list: new entries are merged into the index often, so a
    -- lookup never scans megabytes of unmerged ones (autovacuum merges the rest)
    CREATE INDEX events_entities ON events USING gin (entities) WITH (gin_pending_list_limit = 512);
    -- what acted on the world (a journey's context): few rows, so a small partial index
    CREATE INDEX events_context ON events (epoch, ts) WHERE channel IN ('external', 'simulation_control');

    CREATE FUNCTION archive_ensure_day(day date) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
      part text := 'events_' || to_char(day, 'YYYYMMDD');
    BEGIN
      IF to_regclass(quote_ident(part)) IS NOT NULL THEN
        RETURN;
      END IF;
      EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
        part, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
    EXCEPTION
      WHEN duplicate_table OR unique_violation THEN NULL; -- made by a concurrent caller
    END
    $$;

    CREATE TABLE archive_epochs (
      epoch      text        PRIMARY KEY,
      world      text        NOT NULL,
      first_seen timestamptz NOT NULL DEFAULT now()
    );
    COMMENT ON TABLE archive_epochs IS 'Each stream epoch (a timeline: a new one after a restore, a travel or a Redis lost) the archiver has seen, in order';
  `)
}

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export const down = (pgm) => {
  pgm.sql(`
    DROP TABLE archive_epochs;
    DROP FUNCTION archive_ensure_day(date);
    DROP TABLE events;
  `)
}
