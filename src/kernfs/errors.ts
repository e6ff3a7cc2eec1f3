import { EIO, type ErrnoName, errno, errnoName, isErrnoName } from '../errno.js';

export type { ErrnoName } from '../errno.js';

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
    this.errno = errno[code];
  }
}

/** Shorthand for `throw new FsError(code)` in expression position. */
export function fail(code: ErrnoName, message?: string): never {
  throw new FsError(code, message);
}

/** Throws the FsError of a positive errno answered by lower code (0: nothing to throw; an unnamed number: EINVAL). */
export function checkErrno(n: number): void {
  if (n) throw new FsError(errnoName(n) ?? 'EINVAL');
}

/** The positive errno for any thrown value: FsError keeps its own, Node system errors map by code, the rest is EIO. */
export function errnoOf(err: unknown): number {
  if (err instanceof FsError) return err.errno;
  const code = (err as { code?: unknown } | null)?.code;
  return isErrnoName(code) ? errno[code] : EIO;
}
