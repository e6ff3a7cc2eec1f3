/**
 * The project's one errno table, below every layer (kernfs, fuse, trace and the client may all import it): the
 * running platform's numbers from `node:os`, named as in <errno.h>. Answers are positive numbers, as the kernel's
 * `-errno` returns are.
 */
import { constants } from 'node:os';

/** An errno by its <errno.h> name. */
export type ErrnoName = keyof typeof constants.errno;

/** name → number. */
export const errno: Readonly<Record<ErrnoName, number>> = constants.errno;

const names = new Map<number, ErrnoName>(Object.entries(errno).map(([name, n]) => [n, name as ErrnoName]));

/** number → name (undefined for a number the platform does not name). */
export function errnoName(n: number): ErrnoName | undefined {
  return names.get(n);
}

/** Whether a string (e.g. a Node system error's `code`) is an errno name. */
export function isErrnoName(code: unknown): code is ErrnoName {
  return typeof code === 'string' && Object.hasOwn(errno, code);
}

export const {
  E2BIG,
  EACCES,
  EAGAIN,
  EBADF,
  EBUSY,
  EEXIST,
  EINTR,
  EINVAL,
  EIO,
  ENODEV,
  ENOENT,
  ENOMEM,
  ENOSPC,
  ENOSYS,
  EPERM,
  EPROTO,
  ERANGE,
  ESRCH,
} = errno;
