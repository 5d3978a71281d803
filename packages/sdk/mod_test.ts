// Run by crates/krepis-bridge/tests/deno_sdk.rs with a real Deno binary:
//   KREPIS_BRIDGE_LIB=target/debug/libkrepis_bridge.so deno test --allow-ffi --allow-env packages/sdk/
import { ABI_VERSION, Kernel, KrepisError } from "./mod.ts";

const library = Deno.env.get("KREPIS_BRIDGE_LIB");
if (!library) throw new Error("set KREPIS_BRIDGE_LIB to the bridge library");

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function assertThrowsKrepis(f: () => unknown, code: string): KrepisError {
  try {
    f();
  } catch (error) {
    assert(error instanceof KrepisError, `expected a KrepisError, got ${error}`);
    assert(error.code === code, `expected ${code}, got ${error.code}: ${error.message}`);
    return error;
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}

Deno.test("the bridge end to end: handshake, context, execution, limits, no leaks", () => {
  using kernel = Kernel.open(library);
  const before = kernel.liveBuffers();

  // Calls before the handshake are refused; a wrong ABI version has its own code.
  assertThrowsKrepis(() => kernel.createContext("too-early"), "INVALID_ARGUMENT");
  assertThrowsKrepis(() => kernel.handshake(ABI_VERSION + 1), "ABI_MISMATCH");
  const info = kernel.handshake();
  assert(info.abiVersion === ABI_VERSION, `abi ${info.abiVersion}`);
  // The engine the library was built with (the Rust test passes its name); any engine otherwise.
  const expected = Deno.env.get("KREPIS_EXPECT_ENGINE");
  assert(expected ? info.engine === expected : info.engine.length > 0, `engine ${info.engine}`);

  const ctx = kernel.createContext("req-42", true);
  assert(ctx.request_id === "req-42" && ctx.is_turbo_mode, JSON.stringify(ctx));

  const value = kernel.execute(
    ctx,
    `interface Ctx { request_id: string; tenant_id: string; is_turbo_mode: boolean }
     export async function main(ctx: Ctx) { return { id: ctx.request_id, turbo: ctx.is_turbo_mode, sum: [1, 2, 3].reduce((a, b) => a + b) }; }`,
  ) as { id: string; turbo: boolean; sum: number };
  assert(value.id === "req-42" && value.turbo === true && value.sum === 6, JSON.stringify(value));

  const started = performance.now();
  const timeout = assertThrowsKrepis(() => kernel.execute(ctx, "export function main() { for (;;) {} }", { timeoutMs: 200 }), "EXECUTION_TIMEOUT");
  const elapsed = performance.now() - started;
  assert(timeout.snapshot.limit_ms === 200, JSON.stringify(timeout.snapshot));
  assert(elapsed < 200 + 100 + 300, `the timeout came after ${elapsed} ms`);
  assert(timeout.tenantId === "default", timeout.tenantId);

  assertThrowsKrepis(() => kernel.execute(ctx, "export function main() { return Deno.readTextFileSync('/etc/passwd'); }"), "SCRIPT_ERROR");
  assertThrowsKrepis(
    () => kernel.execute(ctx, "export function main() { const a = []; for (;;) a.push(new Array(1e5).fill(1)); }", { maxHeapMb: 16 }),
    "HEAP_LIMIT",
  );

  // Every buffer handed out was freed by `using`.
  assert(kernel.liveBuffers() === before, `leaked ${kernel.liveBuffers() - before} buffers`);

  // A double free is detected and ignored by the kernel, not undefined behaviour.
  const pointer = kernel.rawCreateContext("raw");
  const invalid = kernel.invalidFrees();
  kernel.freeRaw(pointer);
  kernel.freeRaw(pointer);
  kernel.freeRaw(null);
  assert(kernel.invalidFrees() === invalid + 2, `invalid frees ${kernel.invalidFrees()}`);
  assert(kernel.liveBuffers() === before, "the raw buffer was freed once");
});
