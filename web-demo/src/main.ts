/**
 * The demo's entry point: a hash router over its views, each in its own
 * module under ./views/. `#/` (and anything unknown) is the live demo. A new
 * view (the causal tree, the operations console) registers one entry in
 * ROUTES and one link in the header's nav.
 */
import './style.css';
import { $, messageOf } from './dom.js';
import { mountLiveDemo } from './views/liveDemo.js';

type View = (root: HTMLElement) => Promise<void>;

const ROUTES: Record<string, View> = {
  '': mountLiveDemo,
};

function route(): View {
  const name = location.hash.replace(/^#\/?/, '').split('/')[0] ?? '';
  return ROUTES[name] ?? mountLiveDemo;
}

route()($('#view')).catch((err: unknown) => {
  const fatal = $('#fatal');
  fatal.textContent = `The demo could not start: ${messageOf(err)}`;
  fatal.hidden = false;
});
