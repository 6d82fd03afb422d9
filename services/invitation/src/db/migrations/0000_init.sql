CREATE SCHEMA "invitation";
--> statement-breakpoint
CREATE TABLE "invitation"."appointment" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"status" text NOT NULL,
	"start" timestamp with time zone NOT NULL,
	"end" timestamp with time zone NOT NULL,
	"mode" text NOT NULL,
	"location" text NOT NULL,
	"participants" jsonb NOT NULL,
	"version_id" integer DEFAULT 1 NOT NULL,
	"last_updated" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	CONSTRAINT "appointment_status_ck" CHECK ("invitation"."appointment"."status" in ('booked','cancelled','fulfilled','noshow')),
	CONSTRAINT "appointment_mode_ck" CHECK ("invitation"."appointment"."mode" in ('physical','video','phone')),
	CONSTRAINT "appointment_period_ck" CHECK ("invitation"."appointment"."start" < "invitation"."appointment"."end")
);
--> statement-breakpoint
CREATE TABLE "invitation"."case_consent" (
	"consent_id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"covered_orgs" text[] NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"period_end" timestamp with time zone,
	"status" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "case_consent_status_ck" CHECK ("invitation"."case_consent"."status" in ('active','revoked','refused'))
);
--> statement-breakpoint
CREATE TABLE "invitation"."case" (
	"id" uuid PRIMARY KEY NOT NULL,
	"requester_org" text NOT NULL,
	"identifier_system" text,
	"identifier_value" text,
	"patient_id_system" text NOT NULL,
	"patient_id_value" text NOT NULL,
	"patient_key" text NOT NULL,
	"protected_identity" boolean DEFAULT false NOT NULL,
	"status_reason" text,
	"status" text NOT NULL,
	"trigger" text NOT NULL,
	"discharge_ready_at" timestamp with time zone,
	"version_id" integer DEFAULT 1 NOT NULL,
	"last_updated" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resource" jsonb NOT NULL,
	CONSTRAINT "case_status_ck" CHECK ("invitation"."case"."status" in ('awaiting-consent','invited','scheduled','held','planned','followed-up','closed','cancelled')),
	CONSTRAINT "case_trigger_ck" CHECK ("invitation"."case"."trigger" in ('discharge','other'))
);
--> statement-breakpoint
CREATE TABLE "invitation"."deviation" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"org" text NOT NULL,
	"requester_org" text NOT NULL,
	"cause" text NOT NULL,
	"appointment_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "invitation"."inbox" (
	"consumer" text NOT NULL,
	"event_id" text NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
CREATE TABLE "invitation"."invitation" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"org" text NOT NULL,
	"kind" text NOT NULL,
	"status" text DEFAULT 'requested' NOT NULL,
	"reason" text,
	"substitute_org" text,
	"replaces" uuid,
	"forwarded_from" text[] DEFAULT '{}'::text[] NOT NULL,
	"answered_at" timestamp with time zone,
	"answered_by" text,
	"version_id" integer DEFAULT 1 NOT NULL,
	"last_updated" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "invitation_kind_ck" CHECK ("invitation"."invitation"."kind" in ('summoned','invited')),
	CONSTRAINT "invitation_status_ck" CHECK ("invitation"."invitation"."status" in ('requested','accepted','rejected','cancelled'))
);
--> statement-breakpoint
CREATE TABLE "invitation"."outbox" (
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
CREATE TABLE "invitation"."timer" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"org" text NOT NULL,
	"invitation_id" uuid,
	"appointment_id" uuid,
	"fired_at" timestamp with time zone,
	"cancelled_at" timestamp with time zone,
	CONSTRAINT "timer_kind_ck" CHECK ("invitation"."timer"."kind" in ('discharge-summons','invitation-reminder','invitation-escalation','meeting-reminder'))
);
--> statement-breakpoint
ALTER TABLE "invitation"."appointment" ADD CONSTRAINT "appointment_case_id_case_id_fk" FOREIGN KEY ("case_id") REFERENCES "invitation"."case"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invitation"."deviation" ADD CONSTRAINT "deviation_case_id_case_id_fk" FOREIGN KEY ("case_id") REFERENCES "invitation"."case"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invitation"."invitation" ADD CONSTRAINT "invitation_case_id_case_id_fk" FOREIGN KEY ("case_id") REFERENCES "invitation"."case"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invitation"."timer" ADD CONSTRAINT "timer_case_id_case_id_fk" FOREIGN KEY ("case_id") REFERENCES "invitation"."case"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "appointment_case_idx" ON "invitation"."appointment" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "case_consent_case_idx" ON "invitation"."case_consent" USING btree ("case_id");--> statement-breakpoint
CREATE UNIQUE INDEX "case_identifier_uq" ON "invitation"."case" USING btree ("requester_org","identifier_system","identifier_value");--> statement-breakpoint
CREATE INDEX "case_patient_idx" ON "invitation"."case" USING btree ("patient_id_system","patient_id_value");--> statement-breakpoint
CREATE INDEX "case_requester_idx" ON "invitation"."case" USING btree ("requester_org","last_updated");--> statement-breakpoint
CREATE UNIQUE INDEX "deviation_once_uq" ON "invitation"."deviation" USING btree ("case_id","org","cause","appointment_id");--> statement-breakpoint
CREATE INDEX "deviation_org_idx" ON "invitation"."deviation" USING btree ("org");--> statement-breakpoint
CREATE UNIQUE INDEX "invitation_case_org_uq" ON "invitation"."invitation" USING btree ("case_id","org");--> statement-breakpoint
CREATE INDEX "invitation_org_idx" ON "invitation"."invitation" USING btree ("org","status");--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "invitation"."outbox" USING btree ("seq") WHERE published_at is null;--> statement-breakpoint
CREATE INDEX "timer_due_idx" ON "invitation"."timer" USING btree ("due_at") WHERE fired_at is null and cancelled_at is null;--> statement-breakpoint
CREATE INDEX "timer_case_idx" ON "invitation"."timer" USING btree ("case_id");