CREATE SCHEMA "notification";
--> statement-breakpoint
CREATE TABLE "notification"."communication" (
	"id" uuid PRIMARY KEY NOT NULL,
	"recipient_org" text NOT NULL,
	"recipient_user" text,
	"sender_org" text,
	"category" text NOT NULL,
	"case_id" uuid NOT NULL,
	"about" text NOT NULL,
	"priority" text DEFAULT 'routine' NOT NULL,
	"text" text NOT NULL,
	"inbox_state" text DEFAULT 'unread' NOT NULL,
	"source_event_id" text NOT NULL,
	"version_id" integer DEFAULT 1 NOT NULL,
	"sent_at" timestamp with time zone NOT NULL,
	"last_updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "communication_inbox_state_ck" CHECK ("notification"."communication"."inbox_state" in ('unread','read','done')),
	CONSTRAINT "communication_priority_ck" CHECK ("notification"."communication"."priority" in ('routine','urgent','asap','stat'))
);
--> statement-breakpoint
CREATE TABLE "notification"."inbox" (
	"consumer" text NOT NULL,
	"event_id" text NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
CREATE TABLE "notification"."outbox" (
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
CREATE UNIQUE INDEX "communication_event_recipient_uq" ON "notification"."communication" USING btree ("source_event_id","recipient_org","about");--> statement-breakpoint
CREATE INDEX "communication_recipient_idx" ON "notification"."communication" USING btree ("recipient_org","sent_at");--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "notification"."outbox" USING btree ("seq") WHERE published_at is null;