CREATE TABLE "plan_store"."care_plan_version" (
	"plan_id" uuid NOT NULL,
	"version_id" integer NOT NULL,
	"status" text NOT NULL,
	"change" text NOT NULL,
	"by_org" text NOT NULL,
	"last_updated" timestamp with time zone NOT NULL,
	"resource" jsonb NOT NULL,
	CONSTRAINT "care_plan_version_plan_id_version_id_pk" PRIMARY KEY("plan_id","version_id")
);
--> statement-breakpoint
CREATE TABLE "plan_store"."care_plan" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"status" text NOT NULL,
	"patient_system" text NOT NULL,
	"patient_value" text NOT NULL,
	"patient_key" text NOT NULL,
	"lead_org" text,
	"participant_orgs" text[] NOT NULL,
	"follow_up_due" date,
	"period_start" timestamp with time zone,
	"period_end" timestamp with time zone,
	"language" text,
	"version_id" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_updated" timestamp with time zone DEFAULT now() NOT NULL,
	"resource" jsonb NOT NULL,
	"proposal" jsonb,
	"proposal_base" integer,
	"proposed_by_org" text,
	"proposed_by" text,
	"proposed_at" timestamp with time zone,
	CONSTRAINT "care_plan_status_ck" CHECK ("plan_store"."care_plan"."status" in ('draft','active','on-hold','revoked','completed','entered-in-error','unknown')),
	CONSTRAINT "care_plan_version_ck" CHECK ("plan_store"."care_plan"."version_id" >= 1)
);
--> statement-breakpoint
CREATE TABLE "plan_store"."case_consent" (
	"consent_id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"covered_orgs" text[] NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"period_end" timestamp with time zone,
	"status" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "case_consent_status_ck" CHECK ("plan_store"."case_consent"."status" in ('active','revoked','refused'))
);
--> statement-breakpoint
CREATE TABLE "plan_store"."case_invitee" (
	"invitation_id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"org" text NOT NULL,
	"kind" text NOT NULL,
	"changed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "plan_store"."sip_case" (
	"id" uuid PRIMARY KEY NOT NULL,
	"requester_org" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "plan_store"."plan_delivery" (
	"plan_id" uuid NOT NULL,
	"version_id" integer NOT NULL,
	"org" text NOT NULL,
	"endpoint" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"last_attempt_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "plan_delivery_plan_id_org_version_id_pk" PRIMARY KEY("plan_id","org","version_id"),
	CONSTRAINT "plan_delivery_status_ck" CHECK ("plan_store"."plan_delivery"."status" in ('pending','delivered','failed','superseded','withheld'))
);
--> statement-breakpoint
CREATE TABLE "plan_store"."plan_follow_up" (
	"id" uuid PRIMARY KEY NOT NULL,
	"plan_id" uuid NOT NULL,
	"due" date NOT NULL,
	"held_on" date NOT NULL,
	"next_due" date,
	"closure_reason" text,
	"by_org" text NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL,
	CONSTRAINT "plan_follow_up_outcome_ck" CHECK (("plan_store"."plan_follow_up"."next_due" is null) <> ("plan_store"."plan_follow_up"."closure_reason" is null))
);
--> statement-breakpoint
CREATE TABLE "plan_store"."plan_share" (
	"id" uuid PRIMARY KEY NOT NULL,
	"plan_id" uuid NOT NULL,
	"version_id" integer NOT NULL,
	"language" text NOT NULL,
	"by_org" text NOT NULL,
	"shared_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "plan_store"."care_plan_version" ADD CONSTRAINT "care_plan_version_plan_id_care_plan_id_fk" FOREIGN KEY ("plan_id") REFERENCES "plan_store"."care_plan"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plan_store"."plan_delivery" ADD CONSTRAINT "plan_delivery_plan_id_care_plan_id_fk" FOREIGN KEY ("plan_id") REFERENCES "plan_store"."care_plan"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plan_store"."plan_follow_up" ADD CONSTRAINT "plan_follow_up_plan_id_care_plan_id_fk" FOREIGN KEY ("plan_id") REFERENCES "plan_store"."care_plan"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plan_store"."plan_share" ADD CONSTRAINT "plan_share_plan_id_care_plan_id_fk" FOREIGN KEY ("plan_id") REFERENCES "plan_store"."care_plan"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "care_plan_case_uq" ON "plan_store"."care_plan" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "care_plan_patient_idx" ON "plan_store"."care_plan" USING btree ("patient_system","patient_value");--> statement-breakpoint
CREATE INDEX "care_plan_lead_idx" ON "plan_store"."care_plan" USING btree ("lead_org");--> statement-breakpoint
CREATE INDEX "care_plan_last_updated_idx" ON "plan_store"."care_plan" USING btree ("last_updated");--> statement-breakpoint
CREATE INDEX "case_consent_case_idx" ON "plan_store"."case_consent" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "case_invitee_case_idx" ON "plan_store"."case_invitee" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "case_invitee_org_idx" ON "plan_store"."case_invitee" USING btree ("org");--> statement-breakpoint
CREATE INDEX "plan_delivery_due_idx" ON "plan_store"."plan_delivery" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "plan_follow_up_plan_idx" ON "plan_store"."plan_follow_up" USING btree ("plan_id");--> statement-breakpoint
CREATE INDEX "plan_share_plan_idx" ON "plan_store"."plan_share" USING btree ("plan_id");