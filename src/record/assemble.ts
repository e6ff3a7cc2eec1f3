/** Writes the final trace.dat: the laid-out head, then each CPU's spooled pages copied to their offsets. */
import { promises as fsp } from 'node:fs';
import type { CpuSpool } from './spool.js';
import { layoutTraceDat, type TraceDatHeader } from './trace-dat.js';

const COPY_CHUNK = 4 << 20;

export async function assembleTraceDat(
  path: string,
  header: TraceDatHeader,
  spools: readonly CpuSpool[],
): Promise<number> {
  const layout = layoutTraceDat(
    header,
    spools.map((s) => ({ cpu: s.cpu, size: s.bytes })),
  );
  const out = await fsp.open(path, 'w', 0o644);
  try {
    await writeAll(out, layout.head, 0);
    const chunk = Buffer.alloc(COPY_CHUNK);
    for (const [i, spool] of spools.entries()) {
      if (spool.bytes === 0) continue;
      const src = await fsp.open(spool.path, 'r');
      try {
        for (let done = 0; done < spool.bytes; ) {
          const { bytesRead } = await src.read(chunk, 0, Math.min(COPY_CHUNK, spool.bytes - done), done);
          if (bytesRead === 0) throw new Error(`spool of cpu${spool.cpu} is shorter than recorded`);
          await writeAll(out, chunk.subarray(0, bytesRead), layout.offsets[i] + done);
          done += bytesRead;
        }
      } finally {
        await src.close();
      }
    }
    await out.truncate(layout.size);
  } finally {
    await out.close();
  }
  return layout.size;
}

async function writeAll(fh: fsp.FileHandle, data: Uint8Array, at: number): Promise<void> {
  for (let done = 0; done < data.length; )
    done += (await fh.write(data, done, data.length - done, at + done)).bytesWritten;
}
