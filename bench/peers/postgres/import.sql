-- One import into a source, all or nothing: the NDJSON body arrives on psql's
-- standard input. Run by run.sh as
--   psql -v source_id=1 -v mode=full|upsert [-v allow_mass_removal=true] -f import.sql < day.ndjson
-- Prints one JSON line: {"import_id", "seq", "stats": {received, created,
-- updated, unchanged, removed}}, as Sync Manager's import answers.
--
-- How it stays set-based (no per-row round trips, no per-row row locks):
--  1. COPY streams the lines into a temp table whose generated columns extract
--     the id and compute the hash while COPY parses each line: one pass.
--  2. One hash FULL JOIN of the batch against the source's current hashes finds
--     every change (created / updated / removed) - a plain
--     INSERT ... ON CONFLICT DO UPDATE WHERE hash differs over all N rows would
--     lock (and WAL-log) every conflicting row even when nothing changes.
--  3. Only the changed rows are written: their history rows (the documents,
--     see schema.sql), then one INSERT ... ON CONFLICT DO UPDATE ... WHERE hash
--     differs into the narrow current-state table (removals included), in key
--     order; seq values are taken from the tenant row under its lock, so they
--     are gapless, and follow external_id order within the import.
--
-- The hash. PostgreSQL's canonical form of a document is jsonb: keys sorted
-- (by length, then bytes), duplicate keys collapsed (last wins), whitespace
-- normalised. The hash is md5 (128 bits) of the jsonb text output with the
-- source's ignore_fields removed. Unlike Sync Manager's canonical JSON it keeps
-- a number's scale (84.0 and 84 differ, 1e0 becomes 1), and it is not the same
-- digest, so only the stats - not the hash strings - can be compared.

\set ON_ERROR_STOP on
\if :{?allow_mass_removal}
\else
  \set allow_mass_removal false
\endif
-- Temp tables live in local buffers; the default 8 MB would spill every batch.
SET temp_buffers = '256MB';

BEGIN;
-- One writer per tenant at a time, as in the engine: the tenant row is locked
-- until COMMIT, and the seq values are handed out from it.
SELECT s.tenant_id, s.id_field, s.ignore_fields::text AS ignore_fields, now() AS started_at,
       nextval(pg_get_serial_sequence('import_log', 'id')) AS import_id
  FROM sources s JOIN tenants t ON t.id = s.tenant_id
 WHERE s.id = :source_id
   FOR UPDATE OF t \gset

CREATE TEMP TABLE incoming (
  doc         jsonb NOT NULL CHECK (jsonb_typeof(doc) = 'object'),
  external_id text GENERATED ALWAYS AS (coalesce(doc ->> :'id_field', doc ->> 'id')) STORED
              NOT NULL CHECK (external_id <> '' AND octet_length(external_id) <= 256),
  hash        bytea GENERATED ALWAYS AS
              (decode(md5((doc - :'ignore_fields'::text[])::text), 'hex')) STORED
) ON COMMIT DROP;

-- CSV with a quote and a delimiter byte that never occur in JSON text: each
-- line arrives verbatim (text format would unescape the JSON's backslashes).
\copy incoming (doc) FROM pstdin WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
\set received :ROW_COUNT

-- An id given twice rejects the whole import.
CREATE UNIQUE INDEX ON incoming (external_id);
ANALYZE incoming;

CREATE TEMP TABLE import_plan ON COMMIT DROP AS
SELECT external_id, kind, version, hash, row_number() OVER (ORDER BY external_id) AS n
  FROM (SELECT coalesce(i.external_id, sp.external_id) AS external_id,
               CASE WHEN i.external_id IS NULL THEN 'removed'
                    WHEN sp.external_id IS NULL OR sp.removed THEN 'created'
                    ELSE 'updated' END AS kind,
               coalesce(sp.version, 0) + 1 AS version,
               i.hash
          FROM incoming i
          FULL JOIN (SELECT external_id, hash, version, removed
                       FROM source_properties WHERE source_id = :source_id) sp
            ON sp.external_id = i.external_id
         WHERE (i.external_id IS NOT NULL
                AND (sp.external_id IS NULL OR sp.removed OR sp.hash <> i.hash))
            OR (i.external_id IS NULL AND NOT sp.removed AND :'mode' = 'full')) changes;
ANALYZE import_plan;

SELECT count(*) FILTER (WHERE kind = 'created') AS created,
       count(*) FILTER (WHERE kind = 'updated') AS updated,
       count(*) FILTER (WHERE kind = 'removed') AS removed,
       count(*) AS changes
  FROM import_plan \gset

-- Mass-removal guard: every live property is either in the batch (unchanged or
-- updated) or removed, so live_before = received - created + removed.
SELECT :removed > 0 AND :removed > 0.2 * (:received - :created + :removed)
       AND NOT :allow_mass_removal AS mass_removal \gset
\if :mass_removal
  \echo '{"error": {"code": "mass_removal", "message": "full import would remove more than 20 % of the live properties"}}'
  ROLLBACK;
  \quit
\endif

UPDATE tenants SET last_seq = last_seq + :changes + 1
 WHERE id = :tenant_id
RETURNING last_seq - :changes - 1 AS seq_base, last_seq AS import_seq \gset

-- The documents, once: a history row per change (data NULL for a removal).
INSERT INTO property_history
       (stream_kind, stream_id, external_id, version, seq, time, hash, data, removed,
        cause_kind, cause_id)
SELECT 's', :source_id, p.external_id, p.version, :seq_base + p.n, :'started_at', p.hash, i.doc,
       p.kind = 'removed', 'import', :import_id
  FROM import_plan p LEFT JOIN incoming i USING (external_id);

-- The current state points at those versions. The WHERE guard never skips a
-- planned row (the tenant lock keeps other writers out); it is the usual
-- safety net of an upsert.
INSERT INTO source_properties AS sp
       (source_id, external_id, hash, version, seq, updated_at, removed)
SELECT :source_id, external_id, hash, version, :seq_base + n, :'started_at', kind = 'removed'
  FROM import_plan
 ORDER BY n  -- key order: B-tree inserts go to neighbouring pages (fewer pages, less WAL)
ON CONFLICT (source_id, external_id) DO UPDATE
   SET hash = EXCLUDED.hash, version = EXCLUDED.version, seq = EXCLUDED.seq,
       updated_at = EXCLUDED.updated_at, removed = EXCLUDED.removed
 WHERE sp.hash IS DISTINCT FROM EXCLUDED.hash OR sp.removed <> EXCLUDED.removed;

INSERT INTO import_log (id, source_id, mode, seq, started_at, finished_at, stats)
VALUES (:import_id, :source_id, :'mode', :import_seq, :'started_at', clock_timestamp(),
        jsonb_build_object('received', :received, 'created', :created, 'updated', :updated,
                           'unchanged', :received - :created - :updated, 'removed', :removed))
RETURNING jsonb_build_object('import_id', id, 'seq', seq, 'stats', stats);
COMMIT;
