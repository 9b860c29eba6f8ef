// Bundles the extension, the CLI and the language server. Type checking is a separate step (`npm run typecheck`).
import * as esbuild from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'info',
};

/**
 * In the dispatcher bundle, the modules that belong to the commands bundle resolve to dist/cli-commands.js at run
 * time: commands.ts, and the sandbox and kernels modules behind usage.ts's lazy per-command help texts (which the
 * dispatcher never reads: per-command help is printed by commands.ts, from the commands bundle's own usage.ts).
 */
function cliCommandsExternal() {
  return {
    name: 'cli-commands-external',
    setup(build) {
      build.onResolve({ filter: /^\.\/(commands|sandboxCli|kernelsCli)$/ }, (args) =>
        args.importer.replaceAll('\\', '/').includes('/src/cli/') ? { path: './cli-commands.js', external: true } : undefined,
      );
    },
  };
}

const entries = [
  { entryPoints: ['src/extension/main.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  // The CLI in two files: dist/cli.js (the dispatcher: help, version, command names) and dist/cli-commands.js (the
  // commands), which cli.js requires only when a command runs, so `cilium-custom --help` starts as fast as node does.
  {
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
    define: { __CILIUM_CUSTOM_VERSION__: JSON.stringify(createRequire(import.meta.url)('../package.json').version) },
    plugins: [cliCommandsExternal()],
  },
  { entryPoints: ['src/cli/commands.ts'], outfile: 'dist/cli-commands.js' },
  // web-tree-sitter's ES module build asks import.meta.url where it is: in this CommonJS bundle, dist/server.js.
  {
    entryPoints: ['src/server/main.ts'],
    outfile: 'dist/server.js',
    define: { 'import.meta.url': '__serverFileUrl' },
    banner: { js: "var __serverFileUrl = require('url').pathToFileURL(__filename).href;" },
  },
  // The Watch Map webview (a browser page): uPlot and our script in one file, their CSS beside it (watchMap.css).
  { entryPoints: ['src/webview/watchMap/main.ts'], outfile: 'dist/webview/watchMap.js', platform: 'browser', format: 'iife', target: 'es2022' },
];

// The language server loads tree-sitter's runtime and the C grammar (.wasm) from beside dist/server.js.
const require = createRequire(import.meta.url);
mkdirSync('dist', { recursive: true });
for (const wasm of ['web-tree-sitter/tree-sitter.wasm', 'tree-sitter-c/tree-sitter-c.wasm']) {
  copyFileSync(require.resolve(wasm), `dist/${wasm.split('/').pop()}`);
}

const contexts = await Promise.all(entries.map((entry) => esbuild.context({ ...common, ...entry })));
if (watch) {
  await Promise.all(contexts.map((ctx) => ctx.watch()));
} else {
  await Promise.all(contexts.map((ctx) => ctx.rebuild()));
  await Promise.all(contexts.map((ctx) => ctx.dispose()));
  // The CLI is the package's `bin`.
  chmodSync('dist/cli.js', 0o755);
}
