/**
 * A mount's life in the kernel, from just before it is made until it is gone, and every way it ends: close(), the
 * process 'exit' hook (process.exit, the event loop running dry, an uncaught exception), a failed start, and, when
 * the process dies without running any of them, the watchdog. One object per mount, registered for the exit hook
 * from the moment its watchdog is armed — before the mount exists — so no moment of its life is unguarded.
 */
import { abortConnection, connectionsAt, newConnectionAt } from './connection-id.js';
import { STOP, STOPPED } from './doorbell.js';
import { unmount, unmountSync } from './mount-command.js';
import { Watchdog } from './watchdog.js';

/** Attachments still live in this process, for the exit hook. */
const live = new Set<Attachment>();
let exitHooked = false;

/** How long the exit hook waits for the serving thread to stop before ending the connection from outside. */
const STOP_WAIT_MS = 1000;

export class Attachment {
  /** The kernel's connection number (fusectl), once the mount exists. */
  connection: number | undefined;
  /** The helper thread runs and will make the last lookup that lets the server see STOP. */
  helperRunning = false;
  private mounted = false;
  private before: number[] = [];
  private finished = false;
  private readonly control: Int32Array;

  private constructor(
    readonly mountpoint: string,
    private readonly privileged: boolean,
    private readonly watchdog: Watchdog,
    control: SharedArrayBuffer,
    private readonly ring: () => void,
  ) {
    this.control = new Int32Array(control);
  }

  static async arm(
    mountpoint: string,
    privileged: boolean,
    control: SharedArrayBuffer,
    ring: () => void,
  ): Promise<Attachment> {
    const a = new Attachment(mountpoint, privileged, await Watchdog.start(mountpoint, privileged), control, ring);
    live.add(a);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', () => {
        for (const x of live) x.closeSync();
      });
    }
    return a;
  }

  /** Right before the mount command runs: tell the watchdog which mounts at that point are not ours. */
  mounting(): void {
    this.before = connectionsAt(this.mountpoint);
    this.watchdog.mounting(this.before);
  }

  /** The mount command succeeded. */
  attached(): void {
    this.mounted = true;
    this.connection = newConnectionAt(this.mountpoint, this.before);
    if (this.connection !== undefined) this.watchdog.connected(this.connection);
  }

  /** Lazily detach (asynchronously: umount may send requests the serving thread must still answer). */
  async detach(): Promise<void> {
    if (this.mounted) await unmount(this.mountpoint, this.privileged);
  }

  /** Ask the serving thread to stop: the helper sees STOP and makes one last lookup so the server's read returns. */
  stop(): void {
    Atomics.store(this.control, STOP, 1);
    this.ring();
  }

  get stopped(): boolean {
    return Atomics.load(this.control, STOPPED) !== 0;
  }

  /** End the connection from outside: every request still waiting fails at once and the server's read returns. */
  abort(): void {
    if (this.connection !== undefined) abortConnection(this.connection);
  }

  /**
   * The serving thread has closed its end of the connection, so nothing can wait on the mount any more (the kernel
   * aborted it): the watchdog is no longer needed.
   */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    live.delete(this);
    this.watchdog.dismiss();
  }

  /** Everything, synchronously: from the 'exit' hook (no event loop) and failed starts. Bounded in time. */
  closeSync(): void {
    if (this.finished) return;
    if (this.mounted) unmountSync(this.mountpoint, this.privileged);
    this.stop();
    // Node joins worker threads at exit: the serving thread must leave its read(2) of /dev/fuse first.
    if (this.helperRunning) Atomics.wait(this.control, STOPPED, 0, STOP_WAIT_MS);
    if (!this.stopped) this.abort();
    this.finish();
  }
}
