/**
 * The layer rules of Crucible, enforced in `npm test` (see ARCHITECTURE.md, "Dependency rules").
 *
 *   domain  ← ports ← app (use cases) ← edges: api, worker, cli, client, demo, web
 *                  ↖ adapters: storage, queue, events, ratelimit, sandbox, metrics, tracing, identity, memory
 *   main (the composition root) may import everything; only the process entry points import main.
 */
const ADAPTERS = '^src/(storage|queue|events|ratelimit|sandbox|metrics|tracing|identity|memory)/';
const EDGES = '^(src/(api|worker|cli|client|demo)|web/src)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make modules impossible to understand (or test) one at a time.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'The domain (evaluation model, state machine, exit interpretation) depends on nothing but zod: no I/O, no other layer.',
      from: { path: '^src/domain/' },
      to: { pathNot: ['^src/domain/', '^node_modules/zod/'] },
    },
    {
      name: 'ports-only-describe',
      severity: 'error',
      comment: 'Ports are interfaces over domain types; they import nothing else.',
      from: { path: '^src/ports/' },
      to: { pathNot: ['^src/(ports|domain)/'] },
    },
    {
      name: 'use-cases-depend-on-ports-only',
      severity: 'error',
      comment: 'Use cases reach storage, queue, bus and sandboxes through their ports, and know no edge and no composition root.',
      from: { path: '^src/app/' },
      to: { path: ['^src/(storage|queue|events|ratelimit|sandbox|metrics|tracing|identity|memory|api|worker|cli|client|demo|main)/', '^web/'] },
    },
    {
      name: 'adapters-stand-alone',
      severity: 'error',
      comment:
        'An adapter implements a port over the domain; it imports no use case, no edge and no other adapter (shared resources come from the composition root).',
      from: { path: '^src/(storage|queue|events|ratelimit|sandbox|metrics|tracing|identity|memory)/' },
      to: { path: ['^src/(app|api|worker|cli|client|demo|main)/', '^web/'] },
    },
    {
      name: 'adapter-to-adapter',
      severity: 'error',
      comment: 'Adapters do not reach into each other (e.g. the embedded queue gets its SQLite handle from the composition root).',
      from: { path: '^src/(storage|queue|events|ratelimit|sandbox|metrics|tracing|identity|memory)/' },
      to: { path: ADAPTERS, pathNot: '^src/$1/' },
    },
    {
      name: 'edges-call-use-cases',
      severity: 'error',
      comment: 'The API, worker, CLI, client, demo and web UI call use cases; they never import an adapter.',
      from: { path: EDGES },
      to: { path: ADAPTERS },
    },
    {
      name: 'only-entry-points-import-the-composition-root',
      severity: 'error',
      comment: 'src/main wires adapters to use cases; only the process entry points (the CLI and the demo that starts a server) import it.',
      from: { path: '^src/', pathNot: '^src/(main|cli|demo)/' },
      to: { path: '^src/main/' },
    },
    {
      name: 'api-is-not-a-process',
      severity: 'error',
      comment: 'The HTTP edge knows neither the worker nor the CLI.',
      from: { path: '^src/api/' },
      to: { path: '^src/(worker|cli|demo|client)/' },
    },
    {
      name: 'worker-is-not-http',
      severity: 'error',
      from: { path: '^src/worker/' },
      to: { path: '^src/(api|cli|demo|client)/' },
    },
    {
      name: 'client-speaks-http-only',
      severity: 'error',
      comment: 'The HTTP client (and the SDKs it grows into) knows only the domain types it sends and receives.',
      from: { path: '^src/client/' },
      to: { path: '^src/', pathNot: '^src/(client|domain)/' },
    },
    {
      name: 'sdk-takes-only-types-from-the-domain',
      severity: 'error',
      comment:
        'The TypeScript SDK (src/client, packaged as sdk/typescript) is typed from the domain schemas but runs none of their code, so the built package runs no server code (the CLI-only terminal formatting may).',
      from: { path: '^src/client/', pathNot: '^src/client/terminal-format\\.ts$' },
      to: { path: '^src/domain/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'web-knows-only-the-domain',
      severity: 'error',
      comment: 'The browser bundle takes its types from the domain schemas and nothing else from the server.',
      from: { path: '^web/src/' },
      to: { path: '^src/', pathNot: '^src/(domain|client)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'monaco-esm is a vite alias into monaco-editor (see web/vite.config.ts).',
      from: {},
      to: { couldNotResolve: true, pathNot: '^monaco-esm/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^dist/', '\\.test\\.tsx?$'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.check.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
