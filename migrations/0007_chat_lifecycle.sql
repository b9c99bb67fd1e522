ALTER TABLE "chats" ADD COLUMN "archived_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "deleted_by" text;--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "purge_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "revision" integer DEFAULT 0 NOT NULL;