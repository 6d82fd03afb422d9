CREATE SCHEMA "consent";
--> statement-breakpoint
CREATE TABLE "consent"."audit_event" (
	"id" uuid PRIMARY KEY NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL,
	"action" text NOT NULL,
	"interaction" text NOT NULL,
	"outcome" text NOT NULL,
	"user_id" text NOT NULL,
	"user_name" text,
	"org_unit" text NOT NULL,
	"org_number" text NOT NULL,
	"patient_key" text,
	"case_id" uuid,
	"resource" text,
	"query" text,
	"service" text NOT NULL,
	"stored_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_event_action_ck" CHECK ("consent"."audit_event"."action" in ('C','R','U','D','E')),
	CONSTRAINT "audit_event_outcome_ck" CHECK ("consent"."audit_event"."outcome" in ('0','4','8','12')),
	CONSTRAINT "audit_event_org_number_ck" CHECK ("consent"."audit_event"."org_number" ~ '^[0-9]{10}$')
);
--> statement-breakpoint
CREATE TABLE "consent"."case_invitee" (
	"invitation_id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"org" text NOT NULL,
	"kind" text NOT NULL,
	"changed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "case_invitee_kind_ck" CHECK ("consent"."case_invitee"."kind" in ('summoned','invited'))
);
--> statement-breakpoint
CREATE TABLE "consent"."sip_case" (
	"id" uuid PRIMARY KEY NOT NULL,
	"requester_org" text NOT NULL,
	"initiated_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "consent"."consent_version" (
	"consent_id" uuid NOT NULL,
	"version_id" integer NOT NULL,
	"status" text NOT NULL,
	"last_updated" timestamp with time zone NOT NULL,
	"resource" jsonb NOT NULL,
	CONSTRAINT "consent_version_consent_id_version_id_pk" PRIMARY KEY("consent_id","version_id")
);
--> statement-breakpoint
CREATE TABLE "consent"."consent" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"status" text NOT NULL,
	"patient_system" text NOT NULL,
	"patient_value" text NOT NULL,
	"patient_key" text NOT NULL,
	"grantor" text NOT NULL,
	"covered_orgs" text[] NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"period_end" timestamp with time zone,
	"recorded_by_org" text NOT NULL,
	"recorded_by" text NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_by_org" text,
	"version_id" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_updated" timestamp with time zone DEFAULT now() NOT NULL,
	"resource" jsonb NOT NULL,
	CONSTRAINT "consent_status_ck" CHECK ("consent"."consent"."status" in ('draft','proposed','active','rejected','inactive')),
	CONSTRAINT "consent_grantor_ck" CHECK ("consent"."consent"."grantor" in ('person','guardians','representative')),
	CONSTRAINT "consent_period_ck" CHECK ("consent"."consent"."period_end" is null or "consent"."consent"."period_end" > "consent"."consent"."period_start"),
	CONSTRAINT "consent_covered_ck" CHECK (cardinality("consent"."consent"."covered_orgs") >= 1)
);
--> statement-breakpoint
CREATE TABLE "consent"."inbox" (
	"consumer" text NOT NULL,
	"event_id" text NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
CREATE TABLE "consent"."outbox" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"id" uuid NOT NULL,
	"subject" text NOT NULL,
	"type" text NOT NULL,
	"aggregate" text NOT NULL,
	"headers" jsonb NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	CONSTRAINT "outbox_id_unique" UNIQUE("id")
);
--> statement-breakpoint
ALTER TABLE "consent"."consent_version" ADD CONSTRAINT "consent_version_consent_id_consent_id_fk" FOREIGN KEY ("consent_id") REFERENCES "consent"."consent"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_event_patient_idx" ON "consent"."audit_event" USING btree ("patient_key","recorded_at");--> statement-breakpoint
CREATE INDEX "audit_event_user_idx" ON "consent"."audit_event" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "audit_event_org_unit_idx" ON "consent"."audit_event" USING btree ("org_unit");--> statement-breakpoint
CREATE INDEX "audit_event_recorded_idx" ON "consent"."audit_event" USING btree ("recorded_at");--> statement-breakpoint
CREATE INDEX "audit_event_principal_idx" ON "consent"."audit_event" USING btree ("org_number","recorded_at");--> statement-breakpoint
CREATE INDEX "case_invitee_case_idx" ON "consent"."case_invitee" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "case_invitee_org_idx" ON "consent"."case_invitee" USING btree ("org");--> statement-breakpoint
CREATE INDEX "consent_case_idx" ON "consent"."consent" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "consent_patient_idx" ON "consent"."consent" USING btree ("patient_system","patient_value");--> statement-breakpoint
CREATE INDEX "consent_last_updated_idx" ON "consent"."consent" USING btree ("last_updated");--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "consent"."outbox" USING btree ("seq") WHERE published_at is null;