-- Custom migration: two changes that make a rebuild's load cheaper, neither visible in any query's result.
-- 1. case_state.state becomes JSON text. Nothing queries inside a case's folded state; it is read whole and written
--    whole per event. A rebuild COPYed 56 MB of it for 40,000 cases, and PostgreSQL's parse of that text into jsonb
--    was half the COPY's time (757 against 358 ms measured here).
-- 2. The projections' text columns take the "C" collation. They hold codes (HSA-ids, municipality and county codes,
--    stages, grains, scopes, reasons, age bands, triggers), compared for equality and ordered only for a stable
--    output. Under a libc locale (the database's default, C.UTF-8 here) every comparison went through strcoll and
--    index builds could not use abbreviated keys; under "C" they compare bytes, which for UTF-8 is the code-point
--    order C.UTF-8 sorts by. A rebuild's index builds and ANALYZE took about a sixth less time.
-- drizzle-kit cannot declare a column's collation; schema.ts says so where the tables are declared. Both changes
-- recurse into every generation's partitions (state is rewritten, the indexes on the other columns rebuilt), so the
-- migration takes about as long as writing the live generation once more; see docs/operations.md.
ALTER TABLE "statistics"."case_state" ALTER COLUMN "state" SET DATA TYPE text USING "state"::text;
--> statement-breakpoint
ALTER TABLE "statistics"."case_fact"
  ALTER COLUMN "requester_org" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "principal" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "municipality" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "region" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "age_band" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "trigger" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "closed_reason" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "cancelled_reason" SET DATA TYPE text COLLATE "C";
--> statement-breakpoint
ALTER TABLE "statistics"."stage_fact"
  ALTER COLUMN "stage" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "requester_org" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "principal" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "municipality" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "region" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "age_band" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "trigger" SET DATA TYPE text COLLATE "C";
--> statement-breakpoint
ALTER TABLE "statistics"."invitation_fact"
  ALTER COLUMN "org" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "principal" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "kind" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "response" SET DATA TYPE text COLLATE "C";
--> statement-breakpoint
ALTER TABLE "statistics"."deviation_fact"
  ALTER COLUMN "org" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "cause" SET DATA TYPE text COLLATE "C";
--> statement-breakpoint
ALTER TABLE "statistics"."funnel_rollup"
  ALTER COLUMN "grain" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "scope" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "key" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "parent" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "age_band" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "trigger" SET DATA TYPE text COLLATE "C",
  ALTER COLUMN "reason" SET DATA TYPE text COLLATE "C";
