/**
 * The word that wakes the FUSE serving threads of this process's mounts. It lives in the engine's shared memory,
 * where emitters can reach it: the engine's wake target points at it while at least one mount is live, and each
 * mount uses it as its FUSE doorbell, so an emit that a parked `trace_pipe` reader waits for (or a new event
 * definition) wakes the filesystem directly.
 */
import type { DoorbellWord } from '../fuse/index.js';
import { allocateSharedWords, setWakeTarget } from '../trace/index.js';

/** Engine words are never freed: keep the first one for every later mount. */
let word: Int32Array | undefined;
let users = 0;

/** The doorbell word for a new mount; the engine rings it from now on. */
export function acquireWakeWord(): DoorbellWord {
  word ??= allocateSharedWords(1);
  if (!word) throw new Error('ntrace: no shared memory left for the mount doorbell');
  if (users === 0 && !setWakeTarget(word, 0)) throw new Error('ntrace: the engine refused the doorbell word');
  users++;
  return { buffer: word.buffer as SharedArrayBuffer, index: word.byteOffset / 4 };
}

/** A mount is gone; with the last one the engine rings its own word again. */
export function releaseWakeWord(): void {
  if (users === 0) return;
  if (--users === 0) setWakeTarget(undefined);
}
