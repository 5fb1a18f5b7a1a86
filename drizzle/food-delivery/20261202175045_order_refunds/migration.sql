ALTER TYPE "order_status" ADD VALUE 'cancelled';--> statement-breakpoint
ALTER TYPE "order_status" ADD VALUE 'refunded';--> statement-breakpoint
ALTER TYPE "payment_status" ADD VALUE 'refunded';--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "refund_provider_ref" text;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "refund_key" text;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "refunded_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "payments_refund_key_uq" ON "payments" ("refund_key");