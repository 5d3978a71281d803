// Shared by the tests: runtime detection and a guard against hanging promises.

/** Whether the tests run in Deno (else Node or Bun). */
export const isDeno: boolean = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** Resolves like `promise`, or rejects after `ms` milliseconds. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the signal's reason once it aborts. */
export function aborted(signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(signal.reason), { once: true }));
}

/** Waits for pending microtasks and one macrotask turn. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Calls `fn` with `AbortSignal.any` removed (an older runtime), restoring it afterwards. */
export function withoutAbortSignalAny<T>(fn: () => T): T {
  const descriptor = Object.getOwnPropertyDescriptor(AbortSignal, "any");
  Object.defineProperty(AbortSignal, "any", { value: undefined, configurable: true, writable: true });
  try {
    return fn();
  } finally {
    if (descriptor) Object.defineProperty(AbortSignal, "any", descriptor);
    else delete (AbortSignal as { any?: unknown }).any;
  }
}
