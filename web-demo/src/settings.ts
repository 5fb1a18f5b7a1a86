/**
 * What this server serves (`GET /demo/settings.json`, from
 * src/apps/food-delivery/demo/routes.ts): the live demo views and their dev
 * token route, and the operations console. In production only the console
 * may be on (DEMO_CONSOLE=true), with no token route: the operator enters an
 * admin token.
 */
export interface DemoSettings {
  demo: boolean;
  console: boolean;
  tokens: boolean;
}

let settings: Promise<DemoSettings> | undefined;

export function demoSettings(): Promise<DemoSettings> {
  settings ??= fetch('/demo/settings.json', { cache: 'no-store' }).then(async (res) => {
    if (!res.ok) throw new Error(`GET /demo/settings.json: ${res.status}`);
    return (await res.json()) as DemoSettings;
  });
  return settings;
}
