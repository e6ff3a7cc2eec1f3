import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
/** ../shared beside the checkout (read-only material: kernel-events.json, the libfuse peer). */
export const sharedDir = resolve(repoRoot, '..', 'shared');
export const kernelEventsPath = join(sharedDir, 'data', 'kernel-events.json');
