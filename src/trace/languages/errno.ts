/**
 * The errno values the control languages answer with (positive numbers, as `-errno` would be returned by the kernel).
 * Only the ones the kernel's filter/trigger/hist/inject code paths can produce appear here.
 */
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const ENOMEM = 12;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ERANGE = 34;
export const E2BIG = 7;

/** Every errno a language parser may return; the fuzz tests check answers against this set. */
export const LANGUAGE_ERRNOS: ReadonlySet<number> = new Set([
  EPERM,
  ENOENT,
  ESRCH,
  ENOMEM,
  EBUSY,
  EEXIST,
  ENODEV,
  EINVAL,
  ENOSPC,
  E2BIG,
  ERANGE,
]);
