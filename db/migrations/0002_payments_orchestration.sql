ALTER TABLE "payments" ADD COLUMN "pending_action" text;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "pending_amount" bigint;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "processing_announced" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "events_tenant_type_seq_idx" ON "events" USING btree ("tenant_id","type","seq");