/**
 * Builds the web demo into web-demo/dist/, which `start` serves at /demo/
 * (src/apps/food-delivery/demo/routes.ts). `npm install` runs this through
 * scripts/buildDemo.mjs; `npm run demo:build` runs it by hand.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/demo/',
  // Nothing under public/: every file the page loads goes through the build.
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The API process serves these itself: no inline scripts (its CSP allows 'self' only).
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: true,
  },
});
