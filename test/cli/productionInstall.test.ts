/**
 * A production install builds and runs the server: `npm ci --omit=dev` of
 * this package (its lockfile, sources, scripts and migrations, copied to a
 * directory of its own) compiles `dist/` in its `prepare` step with the
 * dependencies alone (typescript and the type packages `src/` needs), and
 * the compiled CLI then migrates a database with no dev dependency
 * installed: no tsx, no Vite.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { foodDeliveryMigrations } from '../../src/apps/food-delivery/migrations.js';
import { appliedCount, ENGINE_MIGRATIONS, migrationCount } from '../../src/engine/db/migrate.js';
import { TEST_SECRET } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { runToExit } from '../support/processes.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** What an install of the package holds besides node_modules. */
const PACKAGE_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'scripts', 'patches', 'drizzle', 'web-demo/index.html'];

let dir: string | undefined;
let db: TestDatabase | undefined;

afterEach(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  await db?.drop();
  db = undefined;
});

describe('a production install', () => {
  it('builds dist/ with the dependencies alone, and the compiled CLI migrates without any dev dependency', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'threefactor-prod-'));
    for (const file of PACKAGE_FILES) cpSync(path.join(ROOT, file), path.join(dir, file), { recursive: true });
    // From npm's cache, which the repository's own install filled: no download.
    const install = await runToExit('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir });
    expect(install.code, install.out.slice(-3000)).toBe(0);
    expect(install.out).toContain('server built: dist/');
    expect(existsSync(path.join(dir, 'dist/cli/main.js'))).toBe(true);
    for (const dev of ['tsx', 'vite', 'vitest']) expect(existsSync(path.join(dir, 'node_modules', dev)), `${dev} installed`).toBe(false);

    db = await freshDatabase({ empty: true });
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', LOG_LEVEL: 'info', DATABASE_URL: urlFor(db.name), AUTH_JWT_SECRET: TEST_SECRET };
    const migrate = await runToExit(process.execPath, ['dist/cli/main.js', 'migrate'], { cwd: dir, env });
    expect(migrate.code, migrate.out.slice(-3000)).toBe(0);
    expect(await appliedCount(db.sql, ENGINE_MIGRATIONS)).toBe(migrationCount(ENGINE_MIGRATIONS));
    expect(await appliedCount(db.sql, foodDeliveryMigrations)).toBe(migrationCount(foodDeliveryMigrations));
  }, 180_000);
});
