/** Ops may answer now or later; these keep the synchronous answer synchronous (no Promise allocated on hot paths). */
import { isPromise, type MaybePromise } from './vfs.js';

export { isPromise };

/** Apply `f` to a value that may still be pending. */
export function then<T, U>(value: MaybePromise<T>, f: (v: T) => U): MaybePromise<U> {
  return isPromise(value) ? Promise.resolve(value).then(f) : f(value);
}
