/**
 * drizzle-kit, once per migration history: the engine's (schema
 * `threefactor`, history in threefactor.__drizzle_migrations) and the
 * food-delivery app's (its own tables in `public`, its own history).
 * `npm run db:generate` runs both; DRIZZLE_SET picks one.
 */
import { defineConfig } from 'drizzle-kit';

const sets: Record<string, { schema: string; out: string; schemaFilter: string[] }> = {
  engine: { schema: './src/engine/db/schema/engine.ts', out: './drizzle/engine', schemaFilter: ['threefactor'] },
  'food-delivery': { schema: './src/apps/food-delivery/db/schema.ts', out: './drizzle/food-delivery', schemaFilter: ['public'] },
};

const name = process.env.DRIZZLE_SET ?? 'engine';
const set = sets[name];
if (!set) throw new Error(`DRIZZLE_SET must be one of ${Object.keys(sets).join(', ')}`);

export default defineConfig({ dialect: 'postgresql', ...set });
