/**
 * `npm run build`, after tsc: the application face (what `import 'ntrace'` and `ntrace/worker` load: src/index.ts,
 * src/worker.ts and the engine files they import, about two dozen) becomes one file, dist/src/app-face.bundle.js.
 * Node 20 pays per file of an ES module graph (resolve, read through the thread pool, compile, link: ~0.7 ms each
 * on an idle machine), so one file instead of 24 is most of what importing ntrace costs (docs/PERFORMANCE.md,
 * "Session 4 — import time").
 *
 * Identity: each bundled module's own dist file becomes a shim that re-exports its names from the bundle, so every
 * importer — the filesystem side, workers, the control plane, tests importing dist/src/trace/… directly — reaches
 * the same module instances; there is one copy of the engine's state per thread whichever door a thread came
 * through. The bundle is built from the TypeScript sources, so running this twice gives the same result.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROOTS = ['src/index.ts', 'src/worker.ts'];
const BUNDLE = 'dist/src/app-face.bundle.js';
const common = { absWorkingDir: root, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning' };

/** dist path of a source module: src/trace/emitter.ts → dist/src/trace/emitter.js */
const distOf = (src) => join('dist', src.replace(/\.ts$/, '.js'));
/** a relative import specifier from dist file `from` to dist file `to` */
const specifier = (from, to) => {
  const r = relative(dirname(from), to);
  return r.startsWith('.') ? r : `./${r}`;
};

// 1. The graph: every source file the roots reach (node: built-ins stay imports).
const graph = await build({ ...common, entryPoints: ROOTS, bundle: true, write: false, outdir: 'x', metafile: true });
const modules = Object.keys(graph.metafile.inputs).sort();

// 2. What each module exports at run time (types are gone).
const single = await build({
  ...common,
  entryPoints: modules,
  bundle: false,
  write: false,
  outdir: 'x',
  metafile: true,
});
const exportsOf = new Map();
for (const meta of Object.values(single.metafile.outputs)) {
  if (meta.entryPoint) exportsOf.set(meta.entryPoint, meta.exports);
}

// 3. The bundle: re-exports every module's names under names unique in the bundle.
const prefix = (src) =>
  `${src
    .replace(/^src\//, '')
    .replace(/\.ts$/, '')
    .replace(/[^A-Za-z0-9]/g, '_')}$`;
const entry = modules
  .map((src) => {
    const names = exportsOf.get(src) ?? [];
    const list = names.map((n) => `${n} as ${prefix(src)}${n}`).join(', ');
    return names.length ? `export { ${list} } from './${src}';` : `import './${src}';`;
  })
  .join('\n');
await build({
  ...common,
  stdin: { contents: entry, resolveDir: root, sourcefile: 'app-face-entry.js' },
  bundle: true,
  outfile: BUNDLE,
  sourcemap: true,
  plugins: [
    {
      // A module's import.meta.url stays its own dist file's (on-demand.ts and index.ts require files beside them).
      name: 'own-import-meta-url',
      setup(b) {
        b.onLoad({ filter: /\.ts$/ }, (args) => {
          const src = relative(root, args.path);
          const text = readFileSync(args.path, 'utf8');
          if (!text.includes('import.meta.url')) return undefined;
          const own = `new URL(${JSON.stringify(specifier(BUNDLE, distOf(src)))}, import.meta.url).href`;
          return { contents: text.replaceAll('import.meta.url', own), loader: 'ts' };
        });
      },
    },
  ],
});

// 4. Each module's dist file: a shim onto the bundle (its tsc source map no longer applies).
for (const src of modules) {
  const file = distOf(src);
  const names = exportsOf.get(src) ?? [];
  const from = JSON.stringify(specifier(file, BUNDLE));
  const body = names.length
    ? `export { ${names.map((n) => `${prefix(src)}${n} as ${n}`).join(', ')} } from ${from};`
    : `import ${from};`;
  writeFileSync(
    join(root, file),
    `// ${src} is built into the application face bundle (scripts/bundle-app-face.mjs).\n${body}\n`,
  );
  rmSync(join(root, `${file}.map`), { force: true });
}
