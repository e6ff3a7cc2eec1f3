/**
 * The errnos the control languages answer with (positive numbers, as `-errno` would be returned by the kernel): only
 * the ones the kernel's filter/trigger/hist/inject code paths can produce. Numbers from the project's table.
 */
import { E2BIG, EBUSY, EEXIST, EINVAL, ENODEV, ENOENT, ENOMEM, ENOSPC, EPERM, ERANGE, ESRCH } from '../../errno.js';

export { E2BIG, EBUSY, EEXIST, EINVAL, ENODEV, ENOENT, ENOMEM, ENOSPC, EPERM, ERANGE, ESRCH };

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
