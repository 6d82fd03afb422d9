CREATE TABLE "statistics"."stage_fact" (
	"gen" integer NOT NULL,
	"case_id" uuid NOT NULL,
	"stage" text NOT NULL,
	"day" date NOT NULL,
	"requester_org" text NOT NULL,
	"principal" text NOT NULL,
	"municipality" text NOT NULL,
	"region" text NOT NULL,
	"age_band" text NOT NULL,
	"trigger" text NOT NULL,
	CONSTRAINT "stage_fact_gen_case_id_stage_pk" PRIMARY KEY("gen","case_id","stage")
);
--> statement-breakpoint
DROP INDEX "statistics"."funnel_rollup_key_idx";--> statement-breakpoint
DROP INDEX "statistics"."funnel_rollup_parent_idx";--> statement-breakpoint
ALTER TABLE "statistics"."funnel_rollup" DROP CONSTRAINT "funnel_rollup_gen_grain_scope_stage_period_key_parent_age_band_trigger_pk";--> statement-breakpoint
ALTER TABLE "statistics"."funnel_rollup" ADD CONSTRAINT "funnel_rollup_gen_scope_grain_key_period_parent_stage_age_band_trigger_pk" PRIMARY KEY("gen","scope","grain","key","period","parent","stage","age_band","trigger");--> statement-breakpoint
CREATE INDEX "stage_fact_org_idx" ON "statistics"."stage_fact" USING btree ("gen","requester_org","day","stage","age_band","trigger","municipality","region");--> statement-breakpoint
CREATE INDEX "stage_fact_principal_idx" ON "statistics"."stage_fact" USING btree ("gen","principal","day","stage","age_band","trigger","municipality","region");--> statement-breakpoint
CREATE INDEX "stage_fact_municipality_idx" ON "statistics"."stage_fact" USING btree ("gen","municipality","day","stage","age_band","trigger","requester_org","principal");