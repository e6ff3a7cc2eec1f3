/**
 * The per-user index of live ntrace processes: every serving process announces itself (pid, command line, mount,
 * socket), and `ntrace ls` / target resolution list the live ones, pruning what dead processes left behind.
 */
export { type Announced, announce } from './announce.js';
export { ensureIndexDirectory, indexDirectory } from './directory.js';
export type { Announcement, DiscoveryEntry } from './entry.js';
export { isAlive, listLive, pidExists } from './list.js';
