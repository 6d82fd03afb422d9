CREATE TABLE "plan_store"."plan_timer" (
	"id" uuid PRIMARY KEY NOT NULL,
	"plan_id" uuid NOT NULL,
	"case_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"org" text NOT NULL,
	"activity_id" text,
	"due_at" timestamp with time zone NOT NULL,
	"fired_at" timestamp with time zone,
	CONSTRAINT "plan_timer_kind_ck" CHECK ("plan_store"."plan_timer"."kind" in ('follow-up-reminder','follow-up-overdue','activity-overdue'))
);
--> statement-breakpoint
ALTER TABLE "plan_store"."plan_timer" ADD CONSTRAINT "plan_timer_plan_id_care_plan_id_fk" FOREIGN KEY ("plan_id") REFERENCES "plan_store"."care_plan"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "plan_timer_due_idx" ON "plan_store"."plan_timer" USING btree ("due_at") WHERE "plan_store"."plan_timer"."fired_at" is null;--> statement-breakpoint
CREATE INDEX "plan_timer_plan_idx" ON "plan_store"."plan_timer" USING btree ("plan_id");