// Telling a handler's Promise from a plain answer without awaiting it (the "thenable" test of
// ECMAScript §27.2.1.3.2, Promise Resolve Functions). Both HTTP stacks and the router answer a synchronous
// handler at once, with no microtask in between, and wait only when the handler returned a thenable.

/** True when `value` has a callable `then`: a Promise, or anything `await` would treat as one. */
export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<T>).then === 'function';
}
