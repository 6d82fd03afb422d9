-- Custom migration: a funnel rollup row holds one count per stage instead of one row per stage. Rows were keyed by
-- (gen, scope, grain, key, period, parent, stage, age_band, trigger) with a count n; now by (…, parent, reason,
-- age_band, trigger) with the counts identified … cancelled, where reason is '' for the stages and a closure or
-- cancellation reason for the rows that count stages `closed:<reason>` and `cancelled:<reason>` (in their closed and
-- cancelled columns). A rebuild of 40,000 cases wrote 776,319 rows before and 301,728 after: the rebuild's largest
-- table to COPY and index. drizzle-kit cannot declare partitioned tables; schema.ts describes the parent as a plain
-- table with the same columns and key.
-- Every generation with rollups (the live one, and a retired one not yet dropped) gets its rows converted.
ALTER TABLE "statistics"."funnel_rollup" RENAME TO "funnel_rollup_by_stage";
--> statement-breakpoint
CREATE TABLE "statistics"."funnel_rollup" (
	"gen" integer NOT NULL,
	"grain" text NOT NULL,
	"scope" text NOT NULL,
	"period" date NOT NULL,
	"key" text NOT NULL,
	"parent" text NOT NULL,
	"age_band" text NOT NULL,
	"trigger" text NOT NULL,
	"reason" text NOT NULL,
	"identified" integer DEFAULT 0 NOT NULL,
	"consented" integer DEFAULT 0 NOT NULL,
	"invited" integer DEFAULT 0 NOT NULL,
	"held" integer DEFAULT 0 NOT NULL,
	"established" integer DEFAULT 0 NOT NULL,
	"followed_up" integer DEFAULT 0 NOT NULL,
	"closed" integer DEFAULT 0 NOT NULL,
	"cancelled" integer DEFAULT 0 NOT NULL
) PARTITION BY LIST ("gen");
--> statement-breakpoint
DO $$
DECLARE
  part record;
BEGIN
  FOR part IN
    SELECT c.relname AS name, substring(c.relname FROM '_g([0-9]+)$')::integer AS gen
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'statistics.funnel_rollup_by_stage'::regclass
  LOOP
    EXECUTE format('ALTER TABLE statistics.%I RENAME TO %I', part.name, 'funnel_rollup_by_stage_g' || part.gen);
    EXECUTE format('CREATE TABLE statistics.%I PARTITION OF statistics.funnel_rollup FOR VALUES IN (%s)',
      'funnel_rollup_g' || part.gen, part.gen);
    EXECUTE format($q$
      INSERT INTO statistics.%I (gen, grain, scope, period, key, parent, age_band, trigger, reason, identified,
        consented, invited, held, established, followed_up, closed, cancelled)
      SELECT gen, grain, scope, period, key, parent, age_band, trigger, coalesce(substring(stage FROM ':(.*)$'), ''),
        coalesce(sum(n) FILTER (WHERE stage = 'identified'), 0),
        coalesce(sum(n) FILTER (WHERE stage = 'consented'), 0),
        coalesce(sum(n) FILTER (WHERE stage = 'invited'), 0),
        coalesce(sum(n) FILTER (WHERE stage = 'held'), 0),
        coalesce(sum(n) FILTER (WHERE stage = 'established'), 0),
        coalesce(sum(n) FILTER (WHERE stage = 'followed-up'), 0),
        coalesce(sum(n) FILTER (WHERE split_part(stage, ':', 1) = 'closed'), 0),
        coalesce(sum(n) FILTER (WHERE split_part(stage, ':', 1) = 'cancelled'), 0)
      FROM statistics.%I
      GROUP BY gen, grain, scope, period, key, parent, age_band, trigger, coalesce(substring(stage FROM ':(.*)$'), '')
    $q$, 'funnel_rollup_g' || part.gen, 'funnel_rollup_by_stage_g' || part.gen);
  END LOOP;
END $$;
--> statement-breakpoint
DROP TABLE "statistics"."funnel_rollup_by_stage";
--> statement-breakpoint
ALTER TABLE "statistics"."funnel_rollup" ADD CONSTRAINT "funnel_rollup_gen_scope_grain_key_period_parent_reason_age_band_trigger_pk" PRIMARY KEY("gen","scope","grain","key","period","parent","reason","age_band","trigger");
