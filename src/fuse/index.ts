/** The FUSE layer's front door: mount a kernfs tree (any `Vfs`) over /dev/fuse, and the doorbell that wakes it. */
export { type DoorbellWord, ringDoorbell, ringUrgent, WAKE_NAME } from './doorbell.js';
export { type FuseMount, type FuseMountOptions, type FuseStats, type MountRequest, mountFuse } from './mount.js';
export { missingRequirements } from './requirements.js';
export type { VfsEnv, VfsFactory } from './vfs-module.js';
