-- Custom migration: the folded state of each case moves from case_fact into its own table, case_state, partitioned
-- by generation like every projection table (0003). At about 1.2 kB of JSON per case it made case_fact ten times
-- wider than its columns, and every indicator that scans the case rows read all of it. drizzle-kit cannot declare
-- partitioned tables; schema.ts describes case_state as a plain table with the same columns and key.
-- Every generation that has case rows (the live one, and a retired one not yet dropped) gets its case_state
-- partition, filled from its case_fact partition. The dropped column's space in case_fact is reused as rows are
-- rewritten; the next rebuild writes the live generation narrow (docs/operations.md).
CREATE TABLE "statistics"."case_state" (
	"gen" integer NOT NULL,
	"case_id" uuid NOT NULL,
	"state" jsonb NOT NULL,
	CONSTRAINT "case_state_gen_case_id_pk" PRIMARY KEY("gen","case_id")
) PARTITION BY LIST ("gen");
--> statement-breakpoint
DO $$
DECLARE
  part record;
BEGIN
  FOR part IN
    SELECT c.relname AS name, substring(c.relname FROM '_g([0-9]+)$')::integer AS gen
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'statistics.case_fact'::regclass
  LOOP
    EXECUTE format('CREATE TABLE statistics.%I PARTITION OF statistics.case_state FOR VALUES IN (%s)',
      'case_state_g' || part.gen, part.gen);
    EXECUTE format('INSERT INTO statistics.%I (gen, case_id, state) SELECT gen, case_id, state FROM statistics.%I',
      'case_state_g' || part.gen, part.name);
  END LOOP;
END $$;
--> statement-breakpoint
ALTER TABLE "statistics"."case_fact" DROP COLUMN "state";
