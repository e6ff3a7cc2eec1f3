/**
 * A request's context as ops see it (`OpContext`): the caller, who is also its own `cred` — one object a request.
 * uid/gid/pid come from the request header; supplementary groups only from /proc, so they are read when an op first
 * asks (./credentials.ts caches them per pid). Requests that may be interrupted (open, read, write, poll) also have
 * a `signal`, whose AbortController is made when someone first asks for it: most of these ops answer at once and
 * never look at it, and a controller per read was the loop's largest allocation. One class for every request, so
 * the ops that read a context see one shape.
 */
import type { Credentials, OpContext } from '../kernfs/vfs.js';
import type { GroupCache } from './credentials.js';

export class RequestContext implements OpContext, Credentials {
  readonly cred: Credentials = this;
  /** READ: the file's flags at the time of this read. */
  fileFlags: number | undefined = undefined;
  /** READ: the memory the server lends for the answer. */
  replyBuffer: Uint8Array | undefined = undefined;
  private cachedGroups: readonly number[] | undefined = undefined;
  private controller: AbortController | undefined = undefined;
  private aborted = false;

  constructor(
    readonly uid: number,
    readonly gid: number,
    readonly pid: number,
    private readonly cache: GroupCache,
    /** INTERRUPT may abort this request (it has a `signal`). */
    readonly interruptible: boolean,
  ) {}

  get groups(): readonly number[] {
    this.cachedGroups ??= this.cache.groupsOf(this.pid);
    return this.cachedGroups;
  }

  get signal(): AbortSignal | undefined {
    if (!this.interruptible) return undefined;
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(); // asked for only after the interrupt: still aborted
    }
    return this.controller.signal;
  }

  abort(): void {
    this.aborted = true;
    this.controller?.abort();
  }
}
