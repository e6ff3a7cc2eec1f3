/** tracefs + eventfs for a Node.js process, served over FUSE: the library's `mount()`. */
export { type ControlReply, type ControlRequest, controlSocketPath, sendControl } from './control-socket.js';
export { type MountOptions, mount, mountProblem, type ReconfigureOptions, type TracefsMount } from './mount.js';
export type { TreeStats } from './tree-module.js';
