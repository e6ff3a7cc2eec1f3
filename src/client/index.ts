/** Reaching an ntrace tree from outside its process: target resolution and the one client interface. */
export { MountClient } from './mount-client.js';
export { openTarget, TargetError, targetSocket } from './open-target.js';
export { removeInstance } from './remove-instance.js';
export { SocketClient } from './socket-client.js';
export {
  pathParts,
  type StreamOptions,
  type TreeClient,
  type TreeDirEntry,
  TreeError,
  type TreeNodeKind,
  type TreeStat,
} from './tree-client.js';
