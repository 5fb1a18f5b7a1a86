/**
 * The demo's entry point: a hash router over its views, each in its own
 * module under ./views/. `#/` (and anything unknown) is the live demo;
 * `#/operations` the operations console, a chunk of its own loaded only when
 * asked for (the server serves it only with DEMO_CONSOLE on). What this
 * server offers comes from /demo/settings.json: in production with only the
 * console on, the console is the one view. A change of view reloads the
 * page, so each view starts clean.
 */
import './style.css';
import { $, fill, h, messageOf } from './dom.js';
import { demoSettings, type DemoSettings } from './settings.js';
import { mountLiveDemo } from './views/liveDemo.js';

type View = (root: HTMLElement, settings: DemoSettings) => Promise<void>;

const ROUTES: Record<string, { label: string; offered: (s: DemoSettings) => boolean; mount: View }> = {
  '': { label: 'Live demo', offered: (s) => s.demo, mount: (root) => mountLiveDemo(root) },
  operations: {
    label: 'Operations',
    offered: (s) => s.console,
    mount: async (root, settings) => (await import('./views/operations.js')).mountOperations(root, settings),
  },
};

function nav(settings: DemoSettings, current: string): void {
  const offered = Object.entries(ROUTES).filter(([, r]) => r.offered(settings));
  fill(
    $('#nav'),
    offered.length > 1
      ? offered.map(([name, r]) => h('a', { href: `#/${name}`, 'data-testid': `nav-${name || 'demo'}`, ...(name === current ? { 'aria-current': 'page' } : {}) }, r.label))
      : null,
  );
}

async function start(): Promise<void> {
  const settings = await demoSettings();
  const asked = location.hash.replace(/^#\/?/, '').split('/')[0] ?? '';
  const fallback = Object.keys(ROUTES).find((name) => ROUTES[name]!.offered(settings)) ?? '';
  const name = asked in ROUTES && ROUTES[asked]!.offered(settings) ? asked : asked === 'operations' ? asked : fallback;
  nav(settings, name);
  addEventListener('hashchange', () => location.reload());
  const root = $('#view');
  if (!ROUTES[name]!.offered(settings)) {
    fill(root, h('p', { class: 'placeholder empty', role: 'status' }, 'The operations console is off on this server: set DEMO_CONSOLE=true to serve it.'));
    return;
  }
  await ROUTES[name]!.mount(root, settings);
}

start().catch((err: unknown) => {
  const fatal = $('#fatal');
  fatal.textContent = `The demo could not start: ${messageOf(err)}`;
  fatal.hidden = false;
});
