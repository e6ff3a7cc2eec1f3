/**
 * Mounting as a non-root user through fusermount3. (Relay implementation pending.)
 */
import type { MountFlags } from './mount-command.js';

export interface UnprivilegedMount {
  readonly fd: number;
  close(): void;
}

export async function mountUnprivileged(mountpoint: string, _flags: MountFlags): Promise<UnprivilegedMount> {
  throw new Error(`cannot mount FUSE at ${mountpoint} as a non-root user: not supported yet`);
}
