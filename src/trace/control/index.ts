/**
 * The control plane: filters, triggers, histograms and the snapshot buffer of ntrace's instances, set from a
 * control thread (the filesystem thread) and applied by every emitting thread through shared memory. Knows no
 * filesystem. docs/CONTROL.md describes the design; `install.js` installs the emitting side.
 */

export { injectEvent } from './inject.js';
export {
  clearEventControl,
  dropInstance,
  hasTrigger,
  readEventFilter,
  readHist,
  readSystemFilter,
  readTrigger,
  setEventFilter,
  setSystemFilter,
  truncateTriggers,
  writeEnable,
  writeTrigger,
} from './plane.js';
export {
  allocateSnapshot,
  clearSnapshot,
  freeSnapshot,
  isSnapshotAllocated,
  snapshotText,
  swapSnapshot,
  writeSnapshot,
} from './snapshot.js';
