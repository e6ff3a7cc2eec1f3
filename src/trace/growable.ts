/**
 * Growable SharedArrayBuffers (ES2024, shipped in Node 20's V8) — typed here because the project's TypeScript lib
 * is ES2023. Growth is visible to every thread sharing the buffer: that is how memory allocated later (rings of
 * new threads, new event definitions) reaches threads that only share the buffers handed out at start.
 */
interface Growable {
  readonly byteLength: number;
  readonly maxByteLength: number;
  readonly growable: boolean;
  grow(newLength: number): void;
}

type GrowableCtor = new (length: number, options: { maxByteLength: number }) => SharedArrayBuffer;

export function newGrowable(length: number, maxByteLength: number): SharedArrayBuffer {
  return new (SharedArrayBuffer as unknown as GrowableCtor)(length, { maxByteLength });
}

export function asGrowable(b: SharedArrayBuffer): Growable {
  return b as unknown as Growable;
}
