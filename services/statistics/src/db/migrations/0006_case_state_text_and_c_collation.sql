-- Custom migration: two changes that make a rebuild's load cheaper, neither visible in any query's result.
-- 1. case_state.state becomes JSON text. Nothing queries inside a case's folded state; it is read whole and written
--    whole per event. A rebuild COPYed 56 MB of it for 40,000 cases, and PostgreSQL's parse of that text into jsonb
--    was half the COPY's time (757 against 358 ms measured here).
-- 2. The projections' text columns take the "C" collation. They hold codes (HSA-ids, municipality and county codes,
--    stages, grains, scopes, reasons, age bands, triggers), compared for equality and ordered only for a stable
--    output. Under a libc locale (the database's default, C.UTF-8 here) every comparison went through strcoll and
--    index builds could not use abbreviated keys; under "C" they compare bytes, which for UTF-8 is the code-point
--    order C.UTF-8 sorts by. A rebuild's index builds and ANALYZE took about a sixth less time.
-- drizzle-kit cannot declare a column's collation; schema.ts says so where the tables are declared. The columns are
-- read from the catalog: every text column of the partitioned projection tables (case_state holds no other). Both
-- changes recurse into every generation's partitions (state is rewritten, the indexes on the other columns rebuilt),
-- so the migration takes about as long as writing the live generation once more; see docs/operations.md.
ALTER TABLE "statistics"."case_state" ALTER COLUMN "state" SET DATA TYPE text USING "state"::text;
--> statement-breakpoint
-- One ALTER TABLE per table, with all of its text columns, so each table's indexes are rebuilt once.
DO $$
DECLARE
  statement text;
BEGIN
  FOR statement IN
    SELECT format('ALTER TABLE statistics.%I %s', c.relname,
      string_agg(format('ALTER COLUMN %I SET DATA TYPE text COLLATE "C"', a.attname), ', ' ORDER BY a.attnum))
    FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid
    WHERE n.nspname = 'statistics' AND c.relkind = 'p'
      AND c.relname IN ('case_fact', 'stage_fact', 'invitation_fact', 'deviation_fact', 'follow_up_fact',
        'rating_fact', 'funnel_rollup')
      AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid = 'text'::regtype
    GROUP BY c.relname
  LOOP
    EXECUTE statement;
  END LOOP;
END $$;
