-- Schema of the PostgreSQL peer: Sync Manager's model as a PostgreSQL expert
-- would lay it out for this workload. Loaded once into a fresh database by
-- run.sh. Every table is ordinary (logged): the peer keeps PostgreSQL's default
-- durability, like the engine.
--
-- Layout choices (see bench/README.md for what they flatter or penalise):
--  * Documents are stored once, in property_history: every version of every
--    property of both kinds of stream has a row (written once, never updated;
--    the index on seq makes it the change feed too), and a source version's row
--    holds its document. A target version written by a sync holds the same
--    document as the source version it came from, so its row names that
--    version (doc_stream_id, doc_version) instead of copying ~2 KB; a manual
--    edit's row holds its own document.
--  * The current-state tables (source_properties, target_properties) are
--    narrow (~100 bytes a row: key, hash, version, seq, flags) and point at
--    their version's history row. Imports and syncs compare hashes by scanning
--    them, so those scans must not drag documents along: PostgreSQL cannot
--    move a 1-2 KB jsonb out of line (TOAST starts at ~2 KB whatever
--    toast_tuple_target says), so a jsonb column here would make every scan
--    read every document. A GET or a list joins current -> history by primary
--    key.
--  * Keys are compared bytewise (the database is created with LC_COLLATE=C),
--    which is Sync Manager's external_id order and the fastest collation.
--  * hash is md5 of the jsonb text form minus the ignored fields (16 bytes);
--    see import.sql for why that is the peer's canonical form.

CREATE TABLE tenants (
  id       int PRIMARY KEY,
  name     text NOT NULL,
  -- The tenant's event sequence: seq values are handed out from here under the
  -- row lock, so they are gapless per tenant (a SEQUENCE is not).
  last_seq bigint NOT NULL DEFAULT 0
);

CREATE TABLE sources (
  id            int PRIMARY KEY,
  tenant_id     int NOT NULL REFERENCES tenants,
  name          text NOT NULL,
  id_field      text NOT NULL DEFAULT 'external_id',
  ignore_fields text[] NOT NULL DEFAULT '{}'
);

CREATE TABLE targets (
  id        int PRIMARY KEY,
  tenant_id int NOT NULL REFERENCES tenants,
  name      text NOT NULL
);

CREATE TABLE source_properties (
  source_id   int NOT NULL,
  external_id text NOT NULL,
  hash        bytea,              -- NULL once removed
  version     int NOT NULL,       -- data: property_history ('s', source_id, external_id, version)
  seq         bigint NOT NULL,
  updated_at  timestamptz NOT NULL,
  removed     boolean NOT NULL DEFAULT false,
  PRIMARY KEY (source_id, external_id)
) WITH (fillfactor = 90);  -- room for HOT updates (no indexed column changes)

CREATE TABLE target_properties (
  target_id         int NOT NULL,
  external_id       text NOT NULL,
  source_id         int NOT NULL,
  hash              bytea,        -- NULL once removed
  version           int NOT NULL,
  seq               bigint NOT NULL,
  updated_at        timestamptz NOT NULL,
  removed           boolean NOT NULL DEFAULT false,
  -- True after a manual edit, until a sync overwrites it.
  manually_modified boolean NOT NULL DEFAULT false,
  -- Hash of the source version the last sync wrote here.
  sync_hash         bytea,
  -- Where the current document is: property_history (doc_kind, doc_stream_id,
  -- external_id, doc_version) - ('s', source_id, source version) after a sync,
  -- ('t', target_id, version) after a manual edit; NULL once removed.
  doc_kind          char(1),
  doc_stream_id     int,
  doc_version       int,
  PRIMARY KEY (target_id, external_id)
) WITH (fillfactor = 90);

CREATE TABLE property_history (
  stream_kind char(1) NOT NULL,   -- 's' source, 't' target
  stream_id   int NOT NULL,
  external_id text NOT NULL,
  version     int NOT NULL,
  seq         bigint NOT NULL,
  time        timestamptz NOT NULL,
  hash        bytea,
  -- The version's document; NULL for a removal, and for a target version
  -- written by a sync, whose document is the one of source version
  -- ('s', doc_stream_id, external_id, doc_version).
  data          jsonb,
  doc_stream_id int,
  doc_version   int,
  removed     boolean NOT NULL,
  cause_kind  text NOT NULL,      -- 'import' | 'sync' | 'manual'
  cause_id    bigint,
  PRIMARY KEY (stream_kind, stream_id, external_id, version)
);
ALTER TABLE property_history ALTER COLUMN data SET COMPRESSION lz4;
-- The change feed reads history in seq order.
CREATE INDEX property_history_seq ON property_history (seq);

CREATE TABLE import_log (
  id          bigserial PRIMARY KEY,
  source_id   int NOT NULL REFERENCES sources,
  mode        text NOT NULL,
  seq         bigint NOT NULL,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  stats       jsonb NOT NULL
);

CREATE TABLE sync_log (
  id          bigserial PRIMARY KEY,
  source_id   int NOT NULL REFERENCES sources,
  target_id   int NOT NULL REFERENCES targets,
  seq         bigint NOT NULL,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  status      text NOT NULL,
  stats       jsonb NOT NULL,
  warnings    jsonb NOT NULL
);

-- The benchmark's one tenant, source (ignoring scraped_at) and target.
INSERT INTO tenants (id, name) VALUES (1, 'bench');
INSERT INTO sources (id, tenant_id, name, ignore_fields) VALUES (1, 1, 'portal', '{scraped_at}');
INSERT INTO targets (id, tenant_id, name) VALUES (1, 1, 'website');
