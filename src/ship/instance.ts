/**
 * The shipper's own trace instance in the target's tree (`instances/ship-<pid>`): created at start, the chosen events
 * enabled and filtered there, removed at the end — so shipping never touches what an operator set at the top level.
 * Everything goes through the `TreeClient`, exactly as a user would through the files.
 */
import { removeInstance, type TreeClient } from '../client/index.js';
import type { EventDescriptor } from '../trace/record.js';
import { parseFormatFile } from './event-format.js';

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

export class ShipInstance {
  readonly tree: TreeClient;
  readonly name: string;
  readonly #selectors: readonly string[];
  readonly #filter: string | undefined;
  readonly #byId = new Map<number, EventDescriptor>();
  /** Enabled events (`system:event`) whose format file was read. */
  readonly #formatsRead = new Set<string>();
  /** Ids no enabled event's format had since available_events last changed: their records are skipped. */
  readonly #missing = new Set<number>();
  #lookups: Promise<unknown> = Promise.resolve();
  /** `system:event` names enabled here, with the filter applied. */
  #enabled = new Set<string>();
  #available = '';
  /** What the tree refused (a filter an event cannot take), for the caller to report. */
  readonly problems: string[] = [];

  constructor(
    tree: TreeClient,
    name: string,
    selectors: readonly string[],
    filter: string | undefined,
    readonly bufferKb: number,
  ) {
    this.tree = tree;
    this.name = name;
    this.#selectors = selectors.length > 0 ? selectors : ['*:*'];
    this.#filter = filter;
  }

  get path(): string {
    return `instances/${this.name}`;
  }

  async create(): Promise<void> {
    await this.tree.mkdir(this.path);
    // Room for bursts while a batch is in flight: each thread's ring in this instance (allocated on its first event).
    await this.tree.writeFile(`${this.path}/buffer_size_kb`, String(this.bufferKb));
    await this.refresh();
    if (this.#enabled.size === 0) throw new Error(`no event matches ${this.#selectors.join(' ')}`);
  }

  /**
   * Enables what the selectors match (again, when the set of events changed: events defined at run time, or
   * redefined with new fields) and sets the filter on each newly enabled event.
   */
  async refresh(): Promise<void> {
    const available = text(await this.tree.readFile('available_events'));
    if (available === this.#available) return;
    this.#available = available;
    this.#missing.clear(); // an id may belong to an event defined since
    for (const sel of this.#selectors) {
      const s = sel.includes(':') ? sel : `${sel}:*`;
      try {
        await this.tree.writeFile(`${this.path}/set_event`, s, { append: true });
      } catch {
        // Nothing matched (yet): the event may be defined later.
      }
    }
    const now = new Set(
      text(await this.tree.readFile(`${this.path}/set_event`))
        .split('\n')
        .filter((l) => l !== ''),
    );
    for (const ev of now) {
      if (this.#enabled.has(ev) || this.#filter === undefined) continue;
      const [sys, name] = ev.split(':');
      try {
        await this.tree.writeFile(`${this.path}/events/${sys}/${name}/filter`, this.#filter);
      } catch (e) {
        // The event lacks a field the filter names: the kernel refuses the filter, so nothing of it is shipped.
        await this.tree.writeFile(`${this.path}/events/${sys}/${name}/enable`, '0').catch(() => {});
        now.delete(ev);
        this.problems.push(`${ev}: filter refused (${(e as Error).message}); not shipped`);
      }
    }
    this.#enabled = now;
  }

  /** The descriptor of event id `id` if its format file was read already. */
  known(id: number): EventDescriptor | undefined {
    return this.#byId.get(id);
  }

  /**
   * The descriptor of event id `id`, from the format files: those of enabled events not read yet; if none has the
   * id, available_events is looked at again and the formats of events it brought are read; if none has it either,
   * an event may have been removed and defined again (same name, new id), so every enabled event's format is read
   * again. An id still not found is remembered as missing (until available_events changes), so the records of a
   * removed event cost these reads once, not page after page.
   */
  descriptor(id: number): Promise<EventDescriptor | undefined> {
    // One look-up at a time (each CPU's reader may ask): another's half-done reads must not make an id look missing.
    const next = this.#lookups.then(() => this.#lookUp(id));
    this.#lookups = next.catch(() => undefined);
    return next;
  }

  async #lookUp(id: number): Promise<EventDescriptor | undefined> {
    const known = this.#byId.get(id);
    if (known || this.#missing.has(id)) return known;
    await this.#readFormats();
    if (!this.#byId.has(id)) {
      await this.refresh();
      await this.#readFormats();
    }
    if (!this.#byId.has(id)) {
      this.#formatsRead.clear();
      await this.#readFormats();
    }
    if (!this.#byId.has(id)) this.#missing.add(id);
    return this.#byId.get(id);
  }

  /** Reads the format file of every enabled event not read yet. */
  async #readFormats(): Promise<void> {
    for (const ev of this.#enabled) {
      if (this.#formatsRead.has(ev)) continue;
      this.#formatsRead.add(ev); // also when it fails: removed meanwhile, its records are skipped
      const [sys, name] = ev.split(':');
      try {
        const e = parseFormatFile(sys, text(await this.tree.readFile(`events/${sys}/${name}/format`)));
        this.#byId.set(e.id, e);
      } catch {
        // Removed meanwhile.
      }
    }
  }

  async cpus(): Promise<number[]> {
    const entries = await this.tree.readdir(`${this.path}/per_cpu`);
    return entries.map((e) => /^cpu(\d+)$/.exec(e.name)).flatMap((m) => (m ? [Number(m[1])] : []));
  }

  /**
   * Thread names by CPU, as far as the tree tells: `saved_cmdlines` maps the process to its threads' names; with one
   * name it is every thread's, otherwise a thread is named by its CPU (`cpuN`).
   */
  async threadName(cpu: number): Promise<string> {
    try {
      const lines = text(await this.tree.readFile('saved_cmdlines'))
        .split('\n')
        .filter((l) => l !== '');
      if (lines.length === 1) return lines[0].replace(/^\d+ /, '');
    } catch {
      // A tree without saved_cmdlines.
    }
    return `cpu${cpu}`;
  }

  /** Stops recording and removes the instance (its files must be closed first). */
  async remove(): Promise<void> {
    await this.tree.writeFile(`${this.path}/tracing_on`, '0').catch(() => {});
    await removeInstance(this.tree, this.path);
  }
}
