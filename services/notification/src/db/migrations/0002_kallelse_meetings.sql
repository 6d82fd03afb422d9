CREATE TABLE "notification"."meeting" (
	"appointment_id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"start" timestamp with time zone NOT NULL,
	"end" timestamp with time zone NOT NULL,
	"mode" text NOT NULL,
	"location" jsonb,
	"language" text,
	"orgs" jsonb NOT NULL,
	"org_names" jsonb,
	"person_protected" boolean DEFAULT false NOT NULL,
	"status" text DEFAULT 'booked' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "communication_source_event_idx" ON "notification"."communication" USING btree ("source_event_id");