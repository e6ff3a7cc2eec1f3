/**
 * Encodes values with the engine's real encoders (safe and generated) into a plain buffer, so tests can check that a
 * filter evaluated on the JS values agrees with the same filter evaluated on the stored record.
 */
import { compileEncoder, EncodeHelpers, safeEncoder } from '../../../src/trace/encoder.js';
import type { EventDescriptor, TraceRecord } from '../../../src/trace/record.js';
import type { RingWriter } from '../../../src/trace/ring.js';
import type { SharedState } from '../../../src/trace/shared-state.js';

class BufferWriter {
  readonly buf = new ArrayBuffer(16384);
  readonly u8 = new Uint8Array(this.buf);
  readonly u16 = new Uint16Array(this.buf);
  readonly u32 = new Uint32Array(this.buf);
  len = 0;
  reserve(len: number): number {
    this.len = len;
    return 0;
  }
  commit(): void {}
  abort(): void {}
}

const helpers = new EncodeHelpers({ header: new Int32Array(64) } as unknown as SharedState);

export function encodeRecord(
  event: EventDescriptor,
  values: unknown,
  opts: { pid: number; cpu: number; comm: string; fast?: boolean },
): TraceRecord {
  const w = new BufferWriter();
  const slow = safeEncoder(event.id, event.layout, opts.pid, helpers);
  const enc = opts.fast ? compileEncoder(event.id, event.layout, opts.pid, helpers, slow) : slow;
  enc(values, w as unknown as RingWriter, 0);
  return {
    cpu: opts.cpu,
    ts: 0n,
    id: event.id,
    event,
    data: w.u8.slice(0, w.len),
    comm: opts.comm,
    pid: opts.pid,
  };
}
