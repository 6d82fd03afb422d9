DROP INDEX "statistics"."funnel_rollup_key_idx";--> statement-breakpoint
DROP INDEX "statistics"."funnel_rollup_parent_idx";--> statement-breakpoint
DROP INDEX "statistics"."case_fact_org_idx";--> statement-breakpoint
DROP INDEX "statistics"."case_fact_principal_idx";--> statement-breakpoint
DROP INDEX "statistics"."case_fact_municipality_idx";--> statement-breakpoint
ALTER TABLE "statistics"."funnel_rollup" DROP CONSTRAINT "funnel_rollup_gen_grain_scope_stage_period_key_parent_age_band_trigger_pk";--> statement-breakpoint
ALTER TABLE "statistics"."funnel_rollup" ADD CONSTRAINT "funnel_rollup_gen_scope_grain_key_period_parent_stage_age_band_trigger_pk" PRIMARY KEY("gen","scope","grain","key","period","parent","stage","age_band","trigger");--> statement-breakpoint
CREATE INDEX "case_fact_org_idx" ON "statistics"."case_fact" USING btree ("gen","requester_org","municipality","region","age_band","trigger","identified_at","consented_at","invited_at","held_at","established_at","followed_up_at","closed_at","closed_reason","cancelled_at","cancelled_reason");--> statement-breakpoint
CREATE INDEX "case_fact_principal_idx" ON "statistics"."case_fact" USING btree ("gen","principal","region","municipality","age_band","trigger","identified_at","consented_at","invited_at","held_at","established_at","followed_up_at","closed_at","closed_reason","cancelled_at","cancelled_reason");--> statement-breakpoint
CREATE INDEX "case_fact_municipality_idx" ON "statistics"."case_fact" USING btree ("gen","municipality","requester_org","principal","age_band","trigger","identified_at","consented_at","invited_at","held_at","established_at","followed_up_at","closed_at","closed_reason","cancelled_at","cancelled_reason");