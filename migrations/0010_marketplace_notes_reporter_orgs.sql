ALTER TABLE "marketplace_reports" ADD COLUMN "org_id" uuid;--> statement-breakpoint
ALTER TABLE "marketplace_versions" ADD COLUMN "note" text;--> statement-breakpoint
ALTER TABLE "marketplace_reports" ADD CONSTRAINT "marketplace_reports_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE set null ON UPDATE no action;