/**
 * File-type bits, open(2) flags and the POSIX permission check, as Linux's generic_permission() applies them to a
 * node without ACLs. Numbers are Linux's (the only platform ntrace serves).
 */
import type { Credentials } from './vfs.js';

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
/** Permission bits a node may carry (setuid/setgid/sticky included, as chmod(2) accepts them). */
export const PERM_MASK = 0o7777;

export const O_ACCMODE = 0o3;
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;

/** access(2) masks. */
export const R_OK = 4;
export const W_OK = 2;
export const X_OK = 1;

/**
 * May `cred` access a node with `mode` owned by `uid:gid` for every bit of `mask` (R_OK|W_OK|X_OK)?
 * Exactly one class applies (owner, else group incl. supplementary groups, else other), as in Linux: an owner denied
 * by the owner bits is not rescued by the group bits. uid 0 passes read/write always, and execute when anyone may
 * execute (or it is a directory), like CAP_DAC_OVERRIDE.
 */
export function mayAccess(mode: number, uid: number, gid: number, cred: Credentials, mask: number): boolean {
  mask &= 7;
  if (mask === 0) return true;
  if (cred.uid === 0) {
    if ((mask & X_OK) === 0) return true;
    return (mode & S_IFMT) === S_IFDIR || (mode & 0o111) !== 0;
  }
  let granted: number;
  if (cred.uid === uid) granted = (mode >> 6) & 7;
  else if (cred.gid === gid || cred.groups.includes(gid)) granted = (mode >> 3) & 7;
  else granted = mode & 7;
  return (granted & mask) === mask;
}

/** True when `cred` belongs to group `gid` (primary or supplementary). */
export function inGroup(cred: Credentials, gid: number): boolean {
  return cred.gid === gid || cred.groups.includes(gid);
}

/** The access mask an open(2) with `flags` needs (O_TRUNC needs write, as in Linux's build_open_flags). */
export function openAccessMask(flags: number): number {
  const acc = flags & O_ACCMODE;
  let mask = acc === O_WRONLY ? W_OK : acc === O_RDWR ? R_OK | W_OK : R_OK;
  if (flags & O_TRUNC) mask |= W_OK;
  return mask;
}
