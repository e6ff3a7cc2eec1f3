/** `ntrace remount DIR --gid N`: asks the process serving DIR to reset ownership, like `mount -o remount,gid=N`. */
import { sendControl } from '../tracefs/index.js';

export async function runRemount(dir: string, changes: { uid?: number; gid?: number; mode?: number }): Promise<number> {
  const reply = await sendControl(dir, { op: 'reconfigure', ...changes });
  if (!reply.ok) {
    process.stderr.write(`ntrace: remount of ${dir} failed: ${reply.error ?? 'unknown error'}\n`);
    return 1;
  }
  return 0;
}
