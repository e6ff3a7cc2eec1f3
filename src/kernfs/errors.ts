import { constants } from 'node:os';

/** The errno names the filesystem layers use. Numbers come from the running platform. */
export type ErrnoName = keyof typeof constants.errno;

/**
 * A failed filesystem operation, carrying the errno the caller (a transport, ultimately a syscall) must see.
 * Thrown by kernfs and by file ops; transports turn it into the protocol's error reply.
 */
export class FsError extends Error {
  readonly code: ErrnoName;
  readonly errno: number;

  constructor(code: ErrnoName, message?: string) {
    super(message ?? code);
    this.name = 'FsError';
    this.code = code;
    this.errno = constants.errno[code];
  }
}

/** Shorthand for `throw new FsError(code)` in expression position. */
export function fail(code: ErrnoName, message?: string): never {
  throw new FsError(code, message);
}

/** The positive errno for any thrown value: FsError keeps its own, Node system errors map by code, the rest is EIO. */
export function errnoOf(err: unknown): number {
  if (err instanceof FsError) return err.errno;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in constants.errno) return constants.errno[code as ErrnoName];
  return constants.errno.EIO;
}
