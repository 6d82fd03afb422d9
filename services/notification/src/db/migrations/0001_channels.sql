CREATE TABLE "notification"."case_party" (
	"case_id" uuid NOT NULL,
	"org" text NOT NULL,
	"role" text NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "case_party_case_id_org_pk" PRIMARY KEY("case_id","org")
);
--> statement-breakpoint
CREATE TABLE "notification"."email_delivery" (
	"id" uuid PRIMARY KEY NOT NULL,
	"communication_id" uuid NOT NULL,
	"address" text NOT NULL,
	"digest" boolean DEFAULT false NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"last_error" text,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "email_delivery_state_ck" CHECK ("notification"."email_delivery"."state" in ('pending','sent','failed'))
);
--> statement-breakpoint
CREATE TABLE "notification"."email_preference" (
	"org" text NOT NULL,
	"user_id" text DEFAULT '' NOT NULL,
	"address" text NOT NULL,
	"mode" text NOT NULL,
	"digest_minutes" integer DEFAULT 60 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "email_preference_org_user_id_pk" PRIMARY KEY("org","user_id"),
	CONSTRAINT "email_preference_mode_ck" CHECK ("notification"."email_preference"."mode" in ('immediate','digest','off'))
);
--> statement-breakpoint
CREATE TABLE "notification"."subscription_event" (
	"subscription_id" uuid NOT NULL,
	"event_number" bigint NOT NULL,
	"source_event_id" text NOT NULL,
	"focus" text NOT NULL,
	"snapshot" jsonb NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"delivered_at" timestamp with time zone,
	CONSTRAINT "subscription_event_subscription_id_event_number_pk" PRIMARY KEY("subscription_id","event_number")
);
--> statement-breakpoint
CREATE TABLE "notification"."subscription" (
	"id" uuid PRIMARY KEY NOT NULL,
	"owner_org" text NOT NULL,
	"status" text NOT NULL,
	"topic" text NOT NULL,
	"filters" jsonb NOT NULL,
	"endpoint" text NOT NULL,
	"headers" jsonb NOT NULL,
	"content" text NOT NULL,
	"heartbeat_seconds" integer,
	"timeout_seconds" integer DEFAULT 10 NOT NULL,
	"resource" jsonb NOT NULL,
	"events_since_start" bigint DEFAULT 0 NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_sent_at" timestamp with time zone,
	"version_id" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "subscription_status_ck" CHECK ("notification"."subscription"."status" in ('requested','active','error','off')),
	CONSTRAINT "subscription_content_ck" CHECK ("notification"."subscription"."content" in ('empty','id-only','full-resource'))
);
--> statement-breakpoint
DROP INDEX "notification"."communication_event_recipient_uq";--> statement-breakpoint
ALTER TABLE "notification"."communication" ADD COLUMN "dedupe_key" text;--> statement-breakpoint
ALTER TABLE "notification"."communication" ADD COLUMN "link" text;--> statement-breakpoint
ALTER TABLE "notification"."communication" ADD COLUMN "email_state" text;--> statement-breakpoint
ALTER TABLE "notification"."communication" ADD COLUMN "state_changed_by" text;--> statement-breakpoint
CREATE UNIQUE INDEX "email_delivery_uq" ON "notification"."email_delivery" USING btree ("communication_id","address");--> statement-breakpoint
CREATE INDEX "email_delivery_due_idx" ON "notification"."email_delivery" USING btree ("next_attempt_at") WHERE state = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "subscription_event_source_uq" ON "notification"."subscription_event" USING btree ("subscription_id","source_event_id","focus");--> statement-breakpoint
CREATE INDEX "subscription_topic_idx" ON "notification"."subscription" USING btree ("topic");--> statement-breakpoint
CREATE UNIQUE INDEX "communication_dedupe_uq" ON "notification"."communication" USING btree ("dedupe_key");--> statement-breakpoint
CREATE INDEX "communication_case_idx" ON "notification"."communication" USING btree ("case_id");