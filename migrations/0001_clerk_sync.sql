CREATE TABLE "clerk_membership_removals" (
	"org_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"clerk_version" bigint NOT NULL,
	CONSTRAINT "clerk_membership_removals_org_id_user_id_pk" PRIMARY KEY("org_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "pending_revocations" (
	"chat_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pending_revocations_chat_id_user_id_pk" PRIMARY KEY("chat_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "processed_webhooks" (
	"id" text PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"type" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "org_memberships" ADD COLUMN "clerk_version" bigint;--> statement-breakpoint
ALTER TABLE "orgs" ADD COLUMN "clerk_org_id" text;--> statement-breakpoint
ALTER TABLE "clerk_membership_removals" ADD CONSTRAINT "clerk_membership_removals_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pending_revocations" ADD CONSTRAINT "pending_revocations_chat_id_chats_id_fk" FOREIGN KEY ("chat_id") REFERENCES "public"."chats"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "pending_revocations_by_user" ON "pending_revocations" USING btree ("user_id");--> statement-breakpoint
ALTER TABLE "orgs" ADD CONSTRAINT "orgs_clerk_org_id_unique" UNIQUE("clerk_org_id");