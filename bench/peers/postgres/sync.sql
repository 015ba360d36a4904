-- One sync run source -> target, all or nothing. Run by run.sh as
--   psql -v source_id=1 -v target_id=1 [-v on_conflict=keep|overwrite] [-v dry_run=true] -f sync.sql
-- Prints one JSON line: {"sync_id", "seq", "stats": {created, updated,
-- unchanged, removed, conflicts}, "warnings": [...]}, as Sync Manager's sync
-- answers.
--
-- Semantics (SPEC.md, Sync): created = live in the source, absent or removed in
-- the target; updated = both live, hashes differ; removed = removed (or absent)
-- in the source, live in the target; unchanged = same hash. A change to a
-- manually modified target row is a conflict: `keep` (default) leaves it and
-- counts it only as a conflict, `overwrite` applies it and counts it in both.
--
-- How: one hash FULL JOIN of the source's and the target's (narrow, see
-- schema.sql) current rows classifies every pair in a single pass; only the
-- changed rows are then written (narrow history rows that name the source
-- version holding the document, one target upsert covering removals too, one
-- sync_log row). This scans all N pairs however few
-- changed: PostgreSQL keeps no set of "ids changed since the last sync" unless
-- one is built by hand (an index on seq and a per-(source, target) cursor
-- would do it; that is not what this peer measures).

\set ON_ERROR_STOP on
\if :{?on_conflict}
\else
  \set on_conflict keep
\endif
\if :{?dry_run}
\else
  \set dry_run false
\endif
SET temp_buffers = '64MB';

BEGIN;
SELECT s.tenant_id, now() AS started_at,
       nextval(pg_get_serial_sequence('sync_log', 'id')) AS sync_id
  FROM sources s JOIN tenants t ON t.id = s.tenant_id
 WHERE s.id = :source_id
   FOR UPDATE OF t \gset

CREATE TEMP TABLE sync_plan (
  external_id text NOT NULL,
  kind        text NOT NULL,     -- created | updated | removed
  conflict    boolean NOT NULL,
  apply       boolean NOT NULL,  -- false: a conflict left in place (keep)
  version     int NOT NULL,      -- the target's next version
  source_version int,            -- the source version whose document the target gets
  hash        bytea,             -- the source's hash (NULL for a removal)
  n           bigint NOT NULL    -- 1.. among the applied rows: the seq offset
) ON COMMIT DROP;

WITH pairs AS MATERIALIZED (
  SELECT external_id,
         CASE WHEN s.live AND (t.external_id IS NULL OR t.removed) THEN 'created'
              WHEN s.live AND s.hash IS DISTINCT FROM t.hash THEN 'updated'
              WHEN s.live THEN 'unchanged'
              WHEN t.external_id IS NOT NULL AND NOT t.removed THEN 'removed'
              ELSE 'gone' END AS kind,  -- 'gone': removed on both sides
         coalesce(t.manually_modified, false) AS manual,
         coalesce(t.version, 0) + 1 AS version,
         s.version AS source_version,
         s.hash
    FROM (SELECT external_id, hash, version, NOT removed AS live
            FROM source_properties WHERE source_id = :source_id) s
    FULL JOIN (SELECT external_id, hash, removed, manually_modified, version
                 FROM target_properties
                WHERE target_id = :target_id AND source_id = :source_id) t
   USING (external_id)
), changes AS (
  SELECT external_id, kind, manual AND kind <> 'created' AS conflict,
         NOT (manual AND kind <> 'created' AND :'on_conflict' = 'keep') AS apply, version,
         source_version, hash
    FROM pairs
   WHERE kind IN ('created', 'updated', 'removed')
), planned AS (
  INSERT INTO sync_plan
  SELECT external_id, kind, conflict, apply, version, source_version, hash,
         row_number() OVER (PARTITION BY apply ORDER BY external_id)
    FROM changes
)
SELECT count(*) FILTER (WHERE kind = 'unchanged') AS unchanged FROM pairs \gset
ANALYZE sync_plan;

SELECT count(*) FILTER (WHERE apply AND kind = 'created') AS created,
       count(*) FILTER (WHERE apply AND kind = 'updated') AS updated,
       count(*) FILTER (WHERE apply AND kind = 'removed') AS removed,
       count(*) FILTER (WHERE conflict) AS conflicts,
       count(*) FILTER (WHERE apply) AS changes
  FROM sync_plan \gset

\if :dry_run
  SELECT jsonb_build_object('sync_id', NULL, 'seq', NULL, 'dry_run', true,
           'stats', jsonb_build_object('created', :created, 'updated', :updated,
                      'unchanged', :unchanged, 'removed', :removed, 'conflicts', :conflicts));
  ROLLBACK;
  \quit
\endif

UPDATE tenants SET last_seq = last_seq + :changes + 1
 WHERE id = :tenant_id
RETURNING last_seq - :changes - 1 AS seq_base, last_seq AS sync_seq \gset

-- History rows for the target name the source version whose document they
-- have (see schema.sql): no document is read or copied.
INSERT INTO property_history
       (stream_kind, stream_id, external_id, version, seq, time, hash, data, doc_stream_id,
        doc_version, removed, cause_kind, cause_id)
SELECT 't', :target_id, external_id, version, :seq_base + n, :'started_at', hash, NULL,
       CASE WHEN kind <> 'removed' THEN :source_id END,
       CASE WHEN kind <> 'removed' THEN source_version END,
       kind = 'removed', 'sync', :sync_id
  FROM sync_plan
 WHERE apply
 ORDER BY n;  -- key order: B-tree inserts go to neighbouring pages (fewer pages, less WAL)

INSERT INTO target_properties AS tp
       (target_id, external_id, source_id, hash, version, seq, updated_at, removed,
        manually_modified, sync_hash, doc_kind, doc_stream_id, doc_version)
SELECT :target_id, external_id, :source_id, hash, version, :seq_base + n, :'started_at',
       kind = 'removed', false, hash,
       CASE WHEN kind <> 'removed' THEN 's' END,
       CASE WHEN kind <> 'removed' THEN :source_id END,
       CASE WHEN kind <> 'removed' THEN source_version END
  FROM sync_plan
 WHERE apply
 ORDER BY n
ON CONFLICT (target_id, external_id) DO UPDATE
   SET hash = EXCLUDED.hash, version = EXCLUDED.version, seq = EXCLUDED.seq,
       updated_at = EXCLUDED.updated_at, removed = EXCLUDED.removed,
       manually_modified = false, sync_hash = EXCLUDED.sync_hash,
       doc_kind = EXCLUDED.doc_kind, doc_stream_id = EXCLUDED.doc_stream_id,
       doc_version = EXCLUDED.doc_version
 WHERE tp.hash IS DISTINCT FROM EXCLUDED.hash OR tp.removed <> EXCLUDED.removed
    OR tp.manually_modified;

INSERT INTO sync_log (id, source_id, target_id, seq, started_at, finished_at, status, stats,
                      warnings)
SELECT :sync_id, :source_id, :target_id, :sync_seq, :'started_at', clock_timestamp(), 'success',
       jsonb_build_object('created', :created, 'updated', :updated, 'unchanged', :unchanged,
                          'removed', :removed, 'conflicts', :conflicts),
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                          'external_id', external_id, 'type', 'manual_change',
                          'message', CASE WHEN apply
                                          THEN 'manual edit overwritten by the source'
                                          ELSE 'manual edit kept; source change not applied' END)
                        ORDER BY external_id)
                   FROM sync_plan WHERE conflict), '[]'::jsonb)
RETURNING jsonb_build_object('sync_id', id, 'seq', seq, 'stats', stats, 'warnings', warnings);
COMMIT;
