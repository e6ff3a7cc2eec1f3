/** kernfs: a transport-independent pseudo-filesystem core with eventfs-style template directories. */
export { checkErrno, type ErrnoName, errnoOf, FsError, fail } from './errors.js';
export {
  createKernfs,
  Kernfs,
  type KernfsOptions,
  type Owner,
  type Owners,
  type OwnershipPolicy,
  type SyscallHooks,
} from './kernfs.js';
export * from './mode.js';
export { DirNode, FileNode, KernfsNode, SlottedNode, SymlinkNode, TemplateFile } from './node.js';
export type {
  ConstantOp,
  FileOps,
  OpenedFile,
  OpenOp,
  PollOp,
  ReadOp,
  ReleaseOp,
  ShowOp,
  TemplateCallback,
  TemplateEntry,
  TemplateFileSpec,
  TemplateTable,
  WriteOp,
} from './ops.js';
export { canRead } from './ops.js';
export * from './vfs.js';
