/**
 * The life of an event id in shared memory, and the handshake that lets `remove()` refuse (EBUSY) while the event
 * is enabled or triggered anywhere — without a lock on the paths that enable it (emitting threads firing
 * `enable_event` triggers among them).
 *
 * Removal marks the id REMOVING, then looks at every (instance, event) word; a thread that turns a busy bit on sets
 * the bit first, then looks at the status. With sequentially consistent atomics on both sides one of the two sees
 * the other: either the remover sees the bit (EBUSY), or the enabler sees REMOVING and cancels the removal (the
 * remover's final REMOVING → REMOVED exchange then fails: EBUSY too), or it sees REMOVED and takes its bit back.
 */
import {
  EV_LIVE,
  EV_REMOVED,
  EV_REMOVING,
  IE_ENABLED,
  IE_SOFT_MODE,
  IE_TRIGGER,
  MAX_EVENTS,
  MAX_INSTANCES,
  type SharedState,
} from './shared-state.js';

/** (instance, event) bits that make an event busy: recording, soft mode (a trigger holds it), a trigger. */
export const BUSY_BITS = IE_ENABLED | IE_SOFT_MODE | IE_TRIGGER;

/** Live for every reader: an id being removed stays live until the removal is decided. */
export function isLiveStatus(st: number): boolean {
  return st === EV_LIVE || st === EV_REMOVING;
}

/**
 * Called right after setting a busy bit of `id` (or a soft bit of its combined word): true when the event is live,
 * cancelling a removal in progress if need be; false when it was removed, and the caller must take its bit back.
 */
export function confirmLive(s: SharedState, id: number): boolean {
  for (;;) {
    const st = Atomics.load(s.eventStatus, id);
    if (st === EV_LIVE) return true;
    if (st !== EV_REMOVING) return false;
    if (Atomics.compareExchange(s.eventStatus, id, EV_REMOVING, EV_LIVE) === EV_REMOVING) return true;
  }
}

/** Whether any instance records `id`, holds it in soft mode or has a trigger on it. */
function isBusy(s: SharedState, id: number): boolean {
  if (Atomics.load(s.combined, id) !== 0) return true;
  for (let i = 0; i < MAX_INSTANCES; i++)
    if ((Atomics.load(s.instEvent, i * MAX_EVENTS + id) & BUSY_BITS) !== 0) return true;
  return false;
}

/** What `tryRemove` found. */
export const REMOVED = 0;
export const NOT_LIVE = 1;
export const BUSY = 2;

/**
 * Removes `id` unless it is busy. On success the id no longer records anywhere (a racing enabler takes its bit back,
 * see above) and `enabled` reads 0. Callers serialize removals (the registry lock) and log them.
 */
export function tryRemove(s: SharedState, id: number): typeof REMOVED | typeof NOT_LIVE | typeof BUSY {
  if (Atomics.compareExchange(s.eventStatus, id, EV_LIVE, EV_REMOVING) !== EV_LIVE) return NOT_LIVE;
  if (isBusy(s, id)) {
    Atomics.compareExchange(s.eventStatus, id, EV_REMOVING, EV_LIVE);
    return BUSY;
  }
  if (Atomics.compareExchange(s.eventStatus, id, EV_REMOVING, EV_REMOVED) !== EV_REMOVING) return BUSY;
  // Bits set by enablers that have not yet seen REMOVED: they take them back too; clearing here makes sure.
  for (let i = 0; i < MAX_INSTANCES; i++) Atomics.and(s.instEvent, i * MAX_EVENTS + id, ~BUSY_BITS);
  Atomics.store(s.combined, id, 0);
  return REMOVED;
}

/**
 * To call after any change of `id`'s combined word: a removed event's word is 0 for good. Whoever changes it looks
 * at the status afterwards, so the last change after the removal is always followed by a store of 0.
 */
export function settleCombined(s: SharedState, id: number): void {
  if (Atomics.load(s.eventStatus, id) === EV_REMOVED) Atomics.store(s.combined, id, 0);
}
