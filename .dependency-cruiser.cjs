/**
 * The one-way doors between the three parts (docs/architecture.md), checked
 * by test/architecture/imports.test.ts on every `npm test`:
 *   app → engine (its public API, src/engine/index.ts, only); the kit → nothing of ours;
 *   the engine → the kit's wire contract (and its span helpers) only; nothing → the CLI (the composition root);
 *   the kit → no OpenTelemetry package but the API.
 */
module.exports = {
  forbidden: [
    {
      name: 'engine-not-to-apps-or-cli',
      comment: 'The engine knows nothing of any app, nor of the composition root that picks one.',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: '^src/(apps|cli)/' },
    },
    {
      name: 'engine-to-kit-contract-only',
      comment: 'The engine speaks the wire contract the kit defines (and makes its spans the same way), and uses nothing else of it.',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: '^src/kit/', pathNot: '^src/kit/(contract|trace|telemetry)\\.ts$' },
    },
    {
      name: 'apps-to-engine-public-api-only',
      comment: 'An app is built on the engine\'s public API; its internals may change under it.',
      severity: 'error',
      from: { path: '^src/apps/' },
      to: { path: '^src/engine/', pathNot: '^src/engine/index\\.ts$' },
    },
    {
      name: 'apps-not-to-other-apps-or-cli',
      severity: 'error',
      from: { path: '^src/apps/([^/]+)/' },
      to: { path: '^src/(apps/|cli/)', pathNot: '^src/apps/$1/' },
    },
    {
      name: 'kit-otel-api-only',
      comment: 'The kit makes spans on the OpenTelemetry API alone; the process that hosts it registers an SDK.',
      severity: 'error',
      from: { path: '^src/kit/' },
      to: { path: '(^|/)node_modules/@opentelemetry/', pathNot: '(^|/)node_modules/@opentelemetry/api/' },
    },
    {
      name: 'kit-imports-nothing-of-ours',
      comment: 'The handler kit deploys alone: no engine, app or CLI code in it.',
      severity: 'error',
      from: { path: '^src/kit/' },
      to: { path: '^src/(engine|apps|cli)/' },
    },
    {
      name: 'src-not-to-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
