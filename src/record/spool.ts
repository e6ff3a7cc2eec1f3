/**
 * One CPU's pages while recording: read from trace_pipe_raw into a fixed 1 MiB batch, appended to a temporary file beside
 * the output when the batch is full. Memory stays at one batch per CPU whatever the duration.
 */
import { promises as fsp } from 'node:fs';

const BATCH_PAGES = 256;

export class CpuSpool {
  readonly cpu: number;
  readonly path: string;
  private readonly pageSize: number;
  private readonly batch: Buffer;
  private used = 0;
  private file: fsp.FileHandle | undefined;
  /** Bytes of pages appended so far (flushed or not). */
  bytes = 0;

  constructor(cpu: number, path: string, pageSize: number) {
    this.cpu = cpu;
    this.path = path;
    this.pageSize = pageSize;
    this.batch = Buffer.alloc(BATCH_PAGES * pageSize);
  }

  /**
   * Appends one page (a short one is zero-padded: pages keep their places in the file). Returns a promise only when
   * the batch went to disk: the common case costs one copy, no await.
   */
  add(page: Uint8Array): Promise<void> | undefined {
    this.batch.set(page.subarray(0, this.pageSize), this.used);
    if (page.length < this.pageSize) this.batch.fill(0, this.used + page.length, this.used + this.pageSize);
    this.used += this.pageSize;
    this.bytes += this.pageSize;
    return this.used === this.batch.length ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    this.file ??= await fsp.open(this.path, 'w', 0o600);
    let done = 0;
    while (done < this.used) done += (await this.file.write(this.batch, done, this.used - done)).bytesWritten;
    this.used = 0;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.file?.close();
    this.file = undefined;
  }
}
