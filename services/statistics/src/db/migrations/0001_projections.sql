CREATE TABLE "statistics"."case_fact" (
	"gen" integer NOT NULL,
	"case_id" uuid NOT NULL,
	"requester_org" text,
	"principal" text,
	"municipality" text,
	"region" text,
	"age_band" text,
	"trigger" text,
	"discharge_ready_at" timestamp with time zone,
	"identified_at" timestamp with time zone,
	"consented_at" timestamp with time zone,
	"invited_at" timestamp with time zone,
	"held_at" timestamp with time zone,
	"established_at" timestamp with time zone,
	"followed_up_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"closed_reason" text,
	"cancelled_at" timestamp with time zone,
	"cancelled_reason" text,
	"shared_at" timestamp with time zone,
	"state" jsonb NOT NULL,
	CONSTRAINT "case_fact_gen_case_id_pk" PRIMARY KEY("gen","case_id")
);
--> statement-breakpoint
CREATE TABLE "statistics"."deviation_fact" (
	"gen" integer NOT NULL,
	"deviation_id" uuid NOT NULL,
	"case_id" uuid NOT NULL,
	"org" text NOT NULL,
	"cause" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "deviation_fact_gen_deviation_id_pk" PRIMARY KEY("gen","deviation_id")
);
--> statement-breakpoint
CREATE TABLE "statistics"."follow_up_fact" (
	"gen" integer NOT NULL,
	"case_id" uuid NOT NULL,
	"plan_id" uuid NOT NULL,
	"due" date NOT NULL,
	"on_time" boolean NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "follow_up_fact_gen_plan_id_due_pk" PRIMARY KEY("gen","plan_id","due")
);
--> statement-breakpoint
CREATE TABLE "statistics"."funnel_rollup" (
	"gen" integer NOT NULL,
	"grain" text NOT NULL,
	"scope" text NOT NULL,
	"stage" text NOT NULL,
	"period" date NOT NULL,
	"key" text NOT NULL,
	"parent" text NOT NULL,
	"age_band" text NOT NULL,
	"trigger" text NOT NULL,
	"n" integer NOT NULL,
	CONSTRAINT "funnel_rollup_gen_grain_scope_stage_period_key_parent_age_band_trigger_pk" PRIMARY KEY("gen","grain","scope","stage","period","key","parent","age_band","trigger")
);
--> statement-breakpoint
CREATE TABLE "statistics"."generation" (
	"id" serial PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"swapped_at" timestamp with time zone,
	"events_applied" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "statistics"."invitation_fact" (
	"gen" integer NOT NULL,
	"invitation_id" uuid NOT NULL,
	"case_id" uuid NOT NULL,
	"org" text NOT NULL,
	"principal" text NOT NULL,
	"kind" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"responded_at" timestamp with time zone,
	"response" text,
	"attended" boolean,
	CONSTRAINT "invitation_fact_gen_invitation_id_pk" PRIMARY KEY("gen","invitation_id")
);
--> statement-breakpoint
CREATE TABLE "statistics"."rating" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"org" text NOT NULL,
	"rating" smallint NOT NULL,
	"respondent" text NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "statistics"."rating_fact" (
	"gen" integer NOT NULL,
	"rating_id" uuid NOT NULL,
	"case_id" uuid NOT NULL,
	"rating" smallint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "rating_fact_gen_rating_id_pk" PRIMARY KEY("gen","rating_id")
);
--> statement-breakpoint
CREATE INDEX "case_fact_identified_idx" ON "statistics"."case_fact" USING btree ("gen","identified_at");--> statement-breakpoint
CREATE INDEX "case_fact_consented_idx" ON "statistics"."case_fact" USING btree ("gen","consented_at");--> statement-breakpoint
CREATE INDEX "case_fact_invited_idx" ON "statistics"."case_fact" USING btree ("gen","invited_at");--> statement-breakpoint
CREATE INDEX "case_fact_held_idx" ON "statistics"."case_fact" USING btree ("gen","held_at");--> statement-breakpoint
CREATE INDEX "case_fact_established_idx" ON "statistics"."case_fact" USING btree ("gen","established_at");--> statement-breakpoint
CREATE INDEX "case_fact_followed_up_idx" ON "statistics"."case_fact" USING btree ("gen","followed_up_at");--> statement-breakpoint
CREATE INDEX "case_fact_closed_idx" ON "statistics"."case_fact" USING btree ("gen","closed_at");--> statement-breakpoint
CREATE INDEX "case_fact_cancelled_idx" ON "statistics"."case_fact" USING btree ("gen","cancelled_at");--> statement-breakpoint
CREATE INDEX "case_fact_org_idx" ON "statistics"."case_fact" USING btree ("gen","requester_org");--> statement-breakpoint
CREATE INDEX "case_fact_principal_idx" ON "statistics"."case_fact" USING btree ("gen","principal");--> statement-breakpoint
CREATE INDEX "case_fact_municipality_idx" ON "statistics"."case_fact" USING btree ("gen","municipality");--> statement-breakpoint
CREATE INDEX "case_fact_region_idx" ON "statistics"."case_fact" USING btree ("gen","region");--> statement-breakpoint
CREATE INDEX "deviation_fact_at_idx" ON "statistics"."deviation_fact" USING btree ("gen","at");--> statement-breakpoint
CREATE INDEX "deviation_fact_case_idx" ON "statistics"."deviation_fact" USING btree ("gen","case_id");--> statement-breakpoint
CREATE INDEX "follow_up_fact_at_idx" ON "statistics"."follow_up_fact" USING btree ("gen","at");--> statement-breakpoint
CREATE INDEX "follow_up_fact_case_idx" ON "statistics"."follow_up_fact" USING btree ("gen","case_id");--> statement-breakpoint
CREATE INDEX "funnel_rollup_key_idx" ON "statistics"."funnel_rollup" USING btree ("gen","scope","key","period");--> statement-breakpoint
CREATE INDEX "funnel_rollup_parent_idx" ON "statistics"."funnel_rollup" USING btree ("gen","scope","parent","period");--> statement-breakpoint
CREATE INDEX "invitation_fact_case_idx" ON "statistics"."invitation_fact" USING btree ("gen","case_id");--> statement-breakpoint
CREATE INDEX "invitation_fact_created_idx" ON "statistics"."invitation_fact" USING btree ("gen","created_at");--> statement-breakpoint
CREATE INDEX "rating_case_idx" ON "statistics"."rating" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "rating_fact_at_idx" ON "statistics"."rating_fact" USING btree ("gen","at");--> statement-breakpoint
CREATE INDEX "rating_fact_case_idx" ON "statistics"."rating_fact" USING btree ("gen","case_id");--> statement-breakpoint
INSERT INTO "statistics"."generation" ("status") VALUES ('live');