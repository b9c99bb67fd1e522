CREATE TYPE "public"."billing_status" AS ENUM('active', 'trialing', 'past_due', 'unpaid', 'canceled', 'none');--> statement-breakpoint
CREATE TABLE "member_limits" (
	"org_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"agent_runs_per_period" bigint,
	"tokens_per_period" bigint,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "member_limits_org_id_user_id_pk" PRIMARY KEY("org_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "member_usage" (
	"org_id" uuid NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"user_id" text NOT NULL,
	"agent_runs" bigint DEFAULT 0 NOT NULL,
	"tokens_in" bigint DEFAULT 0 NOT NULL,
	"tokens_out" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "member_usage_org_id_period_start_user_id_pk" PRIMARY KEY("org_id","period_start","user_id")
);
--> statement-breakpoint
CREATE TABLE "org_billing" (
	"org_id" uuid PRIMARY KEY NOT NULL,
	"stripe_customer_id" text,
	"stripe_subscription_id" text,
	"stripe_subscription_item_id" text,
	"status" "billing_status" DEFAULT 'none' NOT NULL,
	"plan" text,
	"period_start" timestamp with time zone,
	"period_end" timestamp with time zone,
	"past_due_since" timestamp with time zone,
	"stripe_version" bigint,
	"seats_reported" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "org_billing_stripe_customer_id_unique" UNIQUE("stripe_customer_id")
);
--> statement-breakpoint
CREATE TABLE "org_usage" (
	"org_id" uuid NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"messages" bigint DEFAULT 0 NOT NULL,
	"agent_runs" bigint DEFAULT 0 NOT NULL,
	"tokens_in" bigint DEFAULT 0 NOT NULL,
	"tokens_out" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "org_usage_org_id_period_start_pk" PRIMARY KEY("org_id","period_start")
);
--> statement-breakpoint
CREATE TABLE "usage_batches" (
	"key" text PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL,
	"metered_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "member_limits" ADD CONSTRAINT "member_limits_member_fk" FOREIGN KEY ("org_id","user_id") REFERENCES "public"."org_memberships"("org_id","user_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "member_usage" ADD CONSTRAINT "member_usage_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "org_billing" ADD CONSTRAINT "org_billing_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "org_usage" ADD CONSTRAINT "org_usage_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_batches" ADD CONSTRAINT "usage_batches_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;