/** Shared setup of the shipping tests: a mount of this process, a unique database, a poll helper. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { eventually } from '../support/mount.js';

let serial = 0;
/** A database name unique to this run and test. */
export function uniqueDb(): string {
  return `t${process.pid}_${++serial}`;
}

/** A temp directory removed after the test. */
export function tempDir(t: TestContext, prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Polls `check` until it returns true or `ms` passes (then fails with `what`). */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  if (!(await eventually(check, ms))) throw new Error(`timed out waiting for ${what}`);
}
