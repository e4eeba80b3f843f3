-- Compose only (docker-compose.yml mounts this folder at /docker-entrypoint-initdb.d;
-- the postgres image runs it once, as POSTGRES_USER in POSTGRES_DB, when the data
-- volume is new). Grafana's archive data source signs in as this read-only role,
-- so a query typed in Grafana cannot change the archive.
CREATE ROLE grafana_reader LOGIN PASSWORD 'verisim';
ALTER ROLE grafana_reader SET default_transaction_read_only = on;
ALTER ROLE grafana_reader SET statement_timeout = '30s';
GRANT CONNECT ON DATABASE verisim TO grafana_reader;
GRANT USAGE ON SCHEMA public TO grafana_reader;
-- The archive's tables do not exist yet: the archiver makes them (as postgres) at its start.
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT SELECT ON TABLES TO grafana_reader;
