/**
 * The Krepis kernel for Deno, over the Sovereign Bridge (a C ABI loaded with `Deno.dlopen`).
 *
 * ```ts
 * using kernel = Kernel.open("./libkrepis_bridge.so");
 * kernel.handshake();
 * const ctx = kernel.createContext("req-1");
 * const value = kernel.execute(ctx, "export function main(ctx) { return ctx.request_id; }");
 * ```
 *
 * Every buffer the kernel hands out is freed with `free_buffer` as soon as it is read, through
 * `using` and `Symbol.dispose`; `liveBuffers()` lets tests check that nothing leaks.
 */
import { decode, fieldMap, Writer } from "./protobuf.ts";

/** The ABI version this SDK speaks. */
export const ABI_VERSION = 1;

const symbols = {
  initialize_kernel: { parameters: ["buffer", "usize"], result: "pointer" },
  create_context: { parameters: ["buffer", "usize", "bool"], result: "pointer" },
  execute_isolated: { parameters: ["buffer", "usize", "buffer"], result: "pointer" },
  free_buffer: { parameters: ["pointer"], result: "void" },
  krepis_live_buffers: { parameters: [], result: "i64" },
  krepis_invalid_frees: { parameters: [], result: "i64" },
} as const;

type Library = Deno.DynamicLibrary<typeof symbols>;

export interface ResourceSnapshot {
  heap_used_bytes: number;
  elapsed_ms: number;
  limit_ms: number;
}

/** An error from the kernel: a stable code, a message, the script's stack, a resource snapshot. */
export class KrepisError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly scriptStack: string,
    readonly tenantId: string,
    readonly snapshot: ResourceSnapshot,
  ) {
    super(`${code}: ${message}`);
    this.name = "KrepisError";
  }
}

export interface KernelInfo {
  abiVersion: number;
  engine: string;
  version: string;
}

/** A context as the kernel made it (kept in its wire form to pass back). */
export interface KrepisContext {
  request_id: string;
  tenant_id: string;
  trace_id: string;
  is_turbo_mode: boolean;
  /** The encoded message. */
  readonly bytes: Uint8Array;
}

export interface ExecuteOptions {
  timeoutMs?: number;
  maxHeapMb?: number;
}

/** A response buffer owned by the SDK until disposed. */
class ResponseBuffer implements Disposable {
  constructor(private readonly lib: Library, readonly pointer: Deno.PointerValue) {}
  bytes(): Uint8Array {
    if (this.pointer === null) throw new Error("the kernel returned no buffer");
    const view = new Deno.UnsafePointerView(this.pointer);
    const data = view.getPointer(0);
    const length = Number(view.getBigUint64(8));
    if (data === null || length === 0) return new Uint8Array();
    return new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(data, length).slice(0));
  }
  [Symbol.dispose]() {
    this.lib.symbols.free_buffer(this.pointer);
  }
}

/** Unwraps an FfiResponse: the payload, or a thrown KrepisError. */
function unwrap(bytes: Uint8Array): Uint8Array {
  const response = fieldMap(bytes);
  const payload = response.get(1);
  if (payload?.bytes) return payload.bytes;
  const error = response.get(2);
  if (!error?.bytes) {
    if (payload) return new Uint8Array();
    throw new Error("the kernel's response has neither a payload nor an error");
  }
  const e = fieldMap(error.bytes);
  const snapshotBytes = e.get(5)?.bytes;
  const s = snapshotBytes ? fieldMap(snapshotBytes) : new Map();
  throw new KrepisError(decode.text(e.get(1)), decode.text(e.get(2)), decode.text(e.get(3)), decode.text(e.get(4)), {
    heap_used_bytes: decode.num(s.get(1)),
    elapsed_ms: decode.num(s.get(2)),
    limit_ms: decode.num(s.get(3)),
  });
}

export class Kernel implements Disposable {
  private constructor(private readonly lib: Library) {}

  /** Loads the bridge library (needs `--allow-ffi`). */
  static open(path: string): Kernel {
    return new Kernel(Deno.dlopen(path, symbols));
  }

  #call(pointer: Deno.PointerValue): Uint8Array {
    using buffer = new ResponseBuffer(this.lib, pointer);
    return unwrap(buffer.bytes());
  }

  /** The handshake; throws a KrepisError with code ABI_MISMATCH when the versions differ. */
  handshake(abiVersion = ABI_VERSION): KernelInfo {
    const message = new Writer().uint(1, abiVersion).string(2, "krepis-deno-sdk").finish();
    const info = fieldMap(this.#call(this.lib.symbols.initialize_kernel(message, BigInt(message.length))));
    return { abiVersion: decode.num(info.get(1)), engine: decode.text(info.get(2)), version: decode.text(info.get(3)) };
  }

  /** A fresh context for a request. */
  createContext(requestId: string, isTurbo = false): KrepisContext {
    const id = new TextEncoder().encode(requestId);
    const bytes = this.#call(this.lib.symbols.create_context(id, BigInt(id.length), isTurbo));
    const c = fieldMap(bytes);
    return {
      request_id: decode.text(c.get(1)),
      tenant_id: decode.text(c.get(2)),
      trace_id: decode.text(c.get(3)),
      is_turbo_mode: decode.num(c.get(4)) === 1,
      bytes,
    };
  }

  /** Runs the script's exported `main(ctx)` in a fresh isolated engine; returns its value. */
  execute(ctx: KrepisContext, script: string, options: ExecuteOptions = {}): unknown {
    const extra = new Writer().uint(6, options.timeoutMs ?? 0).uint(7, options.maxHeapMb ?? 0).finish();
    const context = new Uint8Array(ctx.bytes.length + extra.length);
    context.set(ctx.bytes);
    context.set(extra, ctx.bytes.length);
    const source = new TextEncoder().encode(script + "\0");
    const result = fieldMap(this.#call(this.lib.symbols.execute_isolated(context, BigInt(context.length), source)));
    return JSON.parse(decode.text(result.get(1)) || "null");
  }

  /** Buffers handed out and not yet freed (0 when nothing leaks). */
  liveBuffers(): number {
    return Number(this.lib.symbols.krepis_live_buffers());
  }

  /** `free_buffer` calls the kernel ignored (null, unknown or double frees). */
  invalidFrees(): number {
    return Number(this.lib.symbols.krepis_invalid_frees());
  }

  /** Frees a raw pointer directly (for tests of the kernel's own checks). */
  freeRaw(pointer: Deno.PointerValue) {
    this.lib.symbols.free_buffer(pointer);
  }

  /** Raw access for tests: the pointer create_context returns, not yet freed. */
  rawCreateContext(requestId: string): Deno.PointerValue {
    const id = new TextEncoder().encode(requestId);
    return this.lib.symbols.create_context(id, BigInt(id.length), false);
  }

  [Symbol.dispose]() {
    this.lib.close();
  }
}
