-- Custom migration: every projection table becomes partitioned by generation (LIST on gen), one partition per
-- table and generation, named <table>_g<gen>. A rebuild loads its generation into plain tables without indexes,
-- builds the indexes once, attaches them, and retires the old generation by detaching and dropping its partitions
-- instead of deleting rows (decision 16 in docs/statistics.md). drizzle-kit cannot declare partitioned tables, so
-- schema.ts still describes each parent as a plain table with the same columns, keys and indexes.
-- The live generation's rows are kept; rows of retired and failed generations are dropped, and a generation that was
-- being built fails (its rebuild has to run again).
ALTER TABLE "statistics"."generation" ADD COLUMN "dropped_at" timestamp with time zone;
--> statement-breakpoint
UPDATE "statistics"."generation" SET "status" = 'failed' WHERE "status" NOT IN ('live', 'retired', 'failed');
--> statement-breakpoint
UPDATE "statistics"."generation" SET "dropped_at" = now() WHERE "status" <> 'live';
--> statement-breakpoint
DO $$
DECLARE
  t text;
  g integer;
  idx record;
  defs text[];
  d text;
BEGIN
  FOREACH t IN ARRAY ARRAY['case_fact', 'invitation_fact', 'deviation_fact', 'follow_up_fact', 'rating_fact',
    'stage_fact', 'funnel_rollup'] LOOP
    -- The keys and indexes as they are, to declare again on the partitioned parent.
    defs := ARRAY[]::text[];
    FOR idx IN
      SELECT c.conname, pg_get_constraintdef(c.oid) AS condef, pg_get_indexdef(i.indexrelid) AS indexdef
      FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype = 'p'
      WHERE i.indrelid = format('statistics.%I', t)::regclass
    LOOP
      IF idx.conname IS NOT NULL THEN
        defs := defs || format('ALTER TABLE statistics.%I ADD CONSTRAINT %I %s', t, idx.conname, idx.condef);
      ELSE
        defs := defs || idx.indexdef;
      END IF;
    END LOOP;
    EXECUTE format('ALTER TABLE statistics.%I RENAME TO %I', t, t || '_unpartitioned');
    EXECUTE format('CREATE TABLE statistics.%I (LIKE statistics.%I INCLUDING DEFAULTS) PARTITION BY LIST (gen)',
      t, t || '_unpartitioned');
    FOR g IN SELECT id FROM statistics.generation WHERE status = 'live' LOOP
      EXECUTE format('CREATE TABLE statistics.%I PARTITION OF statistics.%I FOR VALUES IN (%s)', t || '_g' || g, t, g);
      EXECUTE format('INSERT INTO statistics.%I SELECT * FROM statistics.%I WHERE gen = %s', t, t || '_unpartitioned', g);
    END LOOP;
    EXECUTE format('DROP TABLE statistics.%I', t || '_unpartitioned');
    FOREACH d IN ARRAY defs LOOP
      EXECUTE d;
    END LOOP;
  END LOOP;
END $$;
