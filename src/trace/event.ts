/**
 * The public face of the engine: `defineEvent` returns a tracepoint whose `enabled` is one shared-memory read and
 * whose `emit` returns at once while the event is off.
 */
import { context } from './context.js';
import { type CompiledEvent, compileEvent } from './emitter.js';
import { computeLayout, type FieldSpec, type FieldType, type IntType, parseFieldType } from './layout.js';
import { isGoodFieldName, isGoodName } from './names.js';
import { registerEvent, unregisterEvent } from './registry.js';
import { MAX_PAYLOAD } from './ring.js';
import type { SharedState } from './shared-state.js';

/** Field declarations of an event: name → type, in order. */
export type FieldDeclarations = Readonly<Record<string, FieldType>>;

type Int64 = 'u64' | 's64';
type Int32Down = Exclude<IntType, Int64>;

/** The JavaScript value a field type takes in `emit`. */
export type FieldValue<T extends FieldType> = T extends Int64
  ? bigint | number
  : T extends Int32Down
    ? number
    : T extends 'bool'
      ? boolean
      : T extends 'string' | `char[${number}]`
        ? string
        : T extends `${Int64}[${number}]`
          ? ArrayLike<bigint | number>
          : ArrayLike<number>;

/** The object `emit` takes: one property per declared field. */
export type EventValues<F extends FieldDeclarations> = { [K in keyof F]: FieldValue<F[K]> };

export interface DefineEventOptions {
  /** printf-style format for the `format` file and trace output; default: `name=value` pairs. */
  readonly print?: string;
}

/** A tracepoint. */
export class TraceEvent<F extends FieldDeclarations = FieldDeclarations> {
  readonly system: string;
  readonly name: string;
  /** The event id (common_type; the `id` file). */
  readonly id: number;
  readonly #flags: Int32Array;
  readonly #s: SharedState;
  readonly #emit: (values: unknown) => void;
  #removed = false;

  /** @internal use defineEvent */
  constructor(s: SharedState, system: string, name: string, compiled: CompiledEvent) {
    this.system = system;
    this.name = name;
    this.id = compiled.id;
    this.#s = s;
    this.#flags = s.combined;
    this.#emit = compiled.emit;
  }

  /** True while the event records in any instance or has a trigger anywhere. */
  get enabled(): boolean {
    return this.#flags[this.id] !== 0;
  }

  /** Records one event. Returns at once when disabled; never throws, whatever `values` holds. */
  emit(values: EventValues<F>): void {
    if (this.#flags[this.id] === 0) return;
    this.#emit(values);
  }

  /**
   * Removes the event: it disappears from the event list; records already in buffers still print. Throws
   * EventBusyError (code EBUSY) while the event is enabled (soft-enabled included) in any instance or has a trigger
   * anywhere, as the kernel refuses to remove a busy event; it stays defined then. Removing twice is a no-op.
   */
  remove(): void {
    if (this.#removed) return;
    unregisterEvent(this.#s, this.id);
    this.#removed = true;
  }
}

/** Ids defined by this thread: defining one of them again here is a duplicate. */
const definedHere = new Set<number>();

/**
 * Declares a tracepoint `system:name` with typed fields. Throws TypeError on bad names, types or options and
 * DuplicateEventError (code EEXIST) when the event is already defined — by this thread, or by another thread
 * with different fields or print format. An identical definition from another thread (the same module loaded in
 * several workers) returns the same tracepoint.
 */
export function defineEvent<F extends FieldDeclarations>(
  system: string,
  name: string,
  fields: F,
  options: DefineEventOptions = {},
): TraceEvent<F> {
  if (!isGoodName(system)) throw new TypeError(`ntrace: bad system name ${JSON.stringify(system)}`);
  if (!isGoodName(name)) throw new TypeError(`ntrace: bad event name ${JSON.stringify(name)}`);
  if (fields === null || typeof fields !== 'object') throw new TypeError('ntrace: fields must be an object');
  const specs: FieldSpec[] = [];
  for (const [fname, ftype] of Object.entries(fields)) {
    if (!isGoodFieldName(fname)) throw new TypeError(`ntrace: bad field name ${JSON.stringify(fname)}`);
    if (typeof ftype !== 'string' || !parseFieldType(ftype))
      throw new TypeError(`ntrace: field ${fname}: unknown type ${JSON.stringify(ftype)}`);
    specs.push({ name: fname, type: ftype });
  }
  const print = options?.print;
  if (print !== undefined && typeof print !== 'string') throw new TypeError('ntrace: print must be a string');
  const layout = computeLayout(specs);
  const strings = specs.filter((f) => f.type === 'string').length;
  if (layout.fixedSize + strings > MAX_PAYLOAD)
    throw new RangeError(`ntrace: records of ${system}:${name} would not fit a ${MAX_PAYLOAD}-byte page`);
  const { s, registry } = context();
  const id = registerEvent(
    s,
    registry,
    { system, name, fields: specs, ...(print !== undefined ? { print } : {}) },
    undefined,
    (existing) => !definedHere.has(existing),
  );
  definedHere.add(id);
  return new TraceEvent<F>(s, system, name, compileEvent(s, id, layout));
}
