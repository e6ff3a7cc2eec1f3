/**
 * A clone has nothing beside it: no test, benchmark or CI step may reach outside the checkout for its material.
 * The kernel event list and the libfuse peer live in the repository.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { kernelEventsPath, repoRoot } from '../support/paths.js';

test('no test, benchmark, source or CI file reads a folder beside the checkout', () => {
  const files = execFileSync('git', ['ls-files', 'src', 'test', 'bench', 'scripts', '.ci', 'package.json'], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f && !f.endsWith('.json') && f !== 'test/repo/standalone.test.ts');
  assert.ok(files.length > 100, `git ls-files listed only ${files.length} files`);
  // '../shared' written as a path, or built with path.join/resolve from '..' and 'shared'.
  const outside = /\.\.\/shared\/|['"]\.\.['"]\s*,\s*['"]shared['"]/;
  const offenders = files.filter((f) => outside.test(readFileSync(join(repoRoot, f), 'utf8')));
  assert.deepEqual(offenders, []);
});

test('the kernel event fixture and the libfuse peer are in the repository', () => {
  const spec = JSON.parse(readFileSync(kernelEventsPath, 'utf8')) as {
    systems: { name: string; events: { name: string; fields: unknown[] }[] }[];
  };
  assert.equal(spec.systems.length, 102);
  assert.equal(
    spec.systems.reduce((n, s) => n + s.events.length, 0),
    2323,
  );
  assert.ok(existsSync(join(repoRoot, 'bench', 'libfuse-peer', 'peer.c')));
});
