import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root: the nearest folder above this file whose package.json is ntrace's (works from dist/ or build/). */
function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ntrace') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`ntrace checkout root not found above ${import.meta.url}`);
    dir = up;
  }
}

export const repoRoot = findRepoRoot();
/**
 * The systems, events and field types of a real Linux 6.18 tracefs (102 systems, 2,323 events), captured once and
 * kept in the repository so a plain clone tests and benchmarks against a kernel-sized tree.
 */
export const kernelEventsPath = join(repoRoot, 'test', 'fixtures', 'kernel-events.json');
