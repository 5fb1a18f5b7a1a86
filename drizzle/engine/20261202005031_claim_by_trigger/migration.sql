-- The claim scans one trigger at a time (fair shares per trigger), so its index leads with the trigger.
DROP INDEX "threefactor"."deliveries_claimable_idx";--> statement-breakpoint
CREATE INDEX "deliveries_claimable_by_trigger_idx" ON "threefactor"."deliveries" ("trigger_name","run_at") WHERE "status" = 'pending';
