//! The Sovereign Bridge: the kernel as a C ABI, so Deno code can call it through `Deno.dlopen`.
//!
//! Every call returns a `*mut FfiBuffer` owned by the caller until it hands it back to
//! [`free_buffer`]; the buffer holds an `FfiResponse` protobuf (`proto/krepis_bridge.proto`) with
//! the payload or a `KrepisError`. No panic crosses the boundary, null pointers and calls before
//! the handshake are answered with errors, and a pointer freed twice (or never handed out) is
//! ignored and counted instead of freed.

// A `KrepisError` is built at most once per FFI call, right before it is encoded: its size does
// not matter, and boxing it would only add noise.
#![allow(clippy::result_large_err)]

use std::collections::HashSet;
use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use krepis_kernel::engine::{self, ExecutionContext, Limits, codes};
use prost::Message;

/// The generated protocol types.
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/krepis.bridge.v1.rs"));
}

/// The ABI version the SDK must present in its handshake.
pub const ABI_VERSION: u32 = 1;

/// Bytes handed across the boundary: 32 bytes, 8-aligned, as the bridge spec fixes them.
#[repr(C, align(8))]
#[derive(Debug)]
pub struct FfiBuffer {
    pub data: *mut u8,
    pub len: usize,
    pub cap: usize,
    pub _padding: u64,
}

static INITIALIZED: AtomicBool = AtomicBool::new(false);
static LIVE: Mutex<Option<HashSet<usize>>> = Mutex::new(None);
static INVALID_FREES: AtomicI64 = AtomicI64::new(0);

fn live() -> std::sync::MutexGuard<'static, Option<HashSet<usize>>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

fn error(code: &str, message: impl Into<String>) -> proto::KrepisError {
    proto::KrepisError {
        code: code.into(),
        message: message.into(),
        ..Default::default()
    }
}

/// Wraps a result in an `FfiResponse` and hands it out as a tracked buffer.
fn respond(result: Result<Vec<u8>, proto::KrepisError>) -> *mut FfiBuffer {
    let response = proto::FfiResponse {
        result: Some(match result {
            Ok(payload) => proto::ffi_response::Result::Payload(payload),
            Err(error) => proto::ffi_response::Result::Error(error),
        }),
    };
    let mut bytes = std::mem::ManuallyDrop::new(response.encode_to_vec());
    let buffer = Box::new(FfiBuffer {
        data: bytes.as_mut_ptr(),
        len: bytes.len(),
        cap: bytes.capacity(),
        _padding: 0,
    });
    let pointer = Box::into_raw(buffer);
    live()
        .get_or_insert_with(HashSet::new)
        .insert(pointer as usize);
    pointer
}

/// Runs `body` so that no panic crosses the boundary.
fn guarded(body: impl FnOnce() -> Result<Vec<u8>, proto::KrepisError>) -> *mut FfiBuffer {
    let result = catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|_| Err(error(codes::INTERNAL, "the kernel failed unexpectedly")));
    respond(result)
}

/// The bytes at `(ptr, len)`, or an error for a null pointer.
///
/// # Safety
/// The caller guarantees `len` readable bytes at a non-null `ptr`.
unsafe fn input<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], proto::KrepisError> {
    if ptr.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(error(
            codes::INVALID_ARGUMENT,
            format!("{what}: null pointer"),
        ));
    }
    // SAFETY: the caller passes `len` readable bytes at `ptr` (the FFI contract).
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

fn require_initialized() -> Result<(), proto::KrepisError> {
    if INITIALIZED.load(Ordering::SeqCst) {
        Ok(())
    } else {
        Err(error(
            codes::INVALID_ARGUMENT,
            "initialize_kernel must succeed before other calls",
        ))
    }
}

/// Handshake: the SDK presents its ABI version; a mismatch is refused with `ABI_MISMATCH`.
///
/// # Safety
/// `ptr` must point to `len` readable bytes (or be null with `len` 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn initialize_kernel(ptr: *const u8, len: usize) -> *mut FfiBuffer {
    guarded(|| {
        // SAFETY: forwarded FFI contract.
        let bytes = unsafe { input(ptr, len, "handshake") }?;
        let handshake = proto::Handshake::decode(bytes).map_err(|e| {
            error(
                codes::INVALID_ARGUMENT,
                format!("handshake is not a Handshake message: {e}"),
            )
        })?;
        if handshake.abi_version != ABI_VERSION {
            return Err(error(
                codes::ABI_MISMATCH,
                format!(
                    "the SDK speaks ABI {}, this kernel ABI {ABI_VERSION}",
                    handshake.abi_version
                ),
            ));
        }
        INITIALIZED.store(true, Ordering::SeqCst);
        let info = proto::KernelInfo {
            abi_version: ABI_VERSION,
            engine: engine::kernel().name().into(),
            version: env!("CARGO_PKG_VERSION").into(),
        };
        Ok(info.encode_to_vec())
    })
}

/// A fresh context for request `id` (UTF-8).
///
/// # Safety
/// `id_ptr` must point to `id_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn create_context(
    id_ptr: *const u8,
    id_len: usize,
    is_turbo: bool,
) -> *mut FfiBuffer {
    guarded(|| {
        require_initialized()?;
        // SAFETY: forwarded FFI contract.
        let bytes = unsafe { input(id_ptr, id_len, "request id") }?;
        let id = std::str::from_utf8(bytes)
            .map_err(|_| error(codes::INVALID_ARGUMENT, "request id is not UTF-8"))?;
        if id.is_empty() {
            return Err(error(codes::INVALID_ARGUMENT, "request id is empty"));
        }
        let base = ExecutionContext::new(id);
        let context = proto::KrepisContext {
            request_id: base.request_id,
            tenant_id: base.tenant_id,
            trace_id: base.trace_id,
            is_turbo_mode: is_turbo,
            clock_start_ms: base.clock_start_ms,
            timeout_ms: 0,
            max_heap_mb: 0,
        };
        Ok(context.encode_to_vec())
    })
}

/// Runs the exported `main(ctx)` of `script` (TypeScript or JavaScript, NUL-terminated UTF-8) in
/// a fresh isolated engine; the payload is an `ExecutionResult`.
///
/// # Safety
/// `ctx_ptr` must point to `ctx_len` readable bytes; `script` must be a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn execute_isolated(
    ctx_ptr: *const u8,
    ctx_len: usize,
    script: *const c_char,
) -> *mut FfiBuffer {
    guarded(|| {
        require_initialized()?;
        // SAFETY: forwarded FFI contract.
        let bytes = unsafe { input(ctx_ptr, ctx_len, "context") }?;
        let context = proto::KrepisContext::decode(bytes).map_err(|e| {
            error(
                codes::INVALID_ARGUMENT,
                format!("context is not a KrepisContext message: {e}"),
            )
        })?;
        if script.is_null() {
            return Err(error(codes::INVALID_ARGUMENT, "script: null pointer"));
        }
        // SAFETY: the caller passes a NUL-terminated string.
        let source = unsafe { CStr::from_ptr(script) }
            .to_str()
            .map_err(|_| error(codes::INVALID_ARGUMENT, "script is not UTF-8"))?;
        let mut limits = Limits::default();
        if context.timeout_ms > 0 {
            limits.timeout_ms = context.timeout_ms;
        }
        if context.max_heap_mb > 0 {
            limits.max_heap_bytes = (context.max_heap_mb as usize).saturating_mul(1 << 20);
        }
        let execution = ExecutionContext {
            request_id: context.request_id,
            tenant_id: context.tenant_id,
            trace_id: context.trace_id,
            is_turbo_mode: context.is_turbo_mode,
            clock_start_ms: context.clock_start_ms,
        };
        match engine::execute_isolated(
            engine::kernel(),
            &execution,
            Path::new("script.ts"),
            source,
            // A script that arrives as text may import the prelude, and no file.
            &engine::Imports::prelude_only(),
            "main",
            limits,
        ) {
            Ok(value) => Ok(proto::ExecutionResult {
                json: value.to_string(),
            }
            .encode_to_vec()),
            Err(e) => Err(proto::KrepisError {
                code: e.code,
                message: e.message,
                stack: e.stack.unwrap_or_default(),
                tenant_id: e.tenant_id,
                snapshot: Some(proto::ResourceSnapshot {
                    heap_used_bytes: e.snapshot.heap_used_bytes,
                    elapsed_ms: e.snapshot.elapsed_ms,
                    limit_ms: e.snapshot.limit_ms,
                }),
            }),
        }
    })
}

/// Takes back a buffer the kernel handed out. Null, unknown and already-freed pointers are
/// ignored (and counted: see [`krepis_invalid_frees`]).
///
/// # Safety
/// `ptr` should be a pointer returned by this library; anything else is detected and ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn free_buffer(ptr: *mut FfiBuffer) {
    let known = !ptr.is_null()
        && live()
            .as_mut()
            .is_some_and(|set| set.remove(&(ptr as usize)));
    if !known {
        INVALID_FREES.fetch_add(1, Ordering::SeqCst);
        return;
    }
    // SAFETY: `ptr` came from `respond` (it was in the live set) and is freed exactly once.
    let buffer = unsafe { Box::from_raw(ptr) };
    // SAFETY: data/len/cap are the raw parts of the Vec `respond` leaked.
    drop(unsafe { Vec::from_raw_parts(buffer.data, buffer.len, buffer.cap) });
}

/// How many buffers are handed out and not freed yet (for leak checks).
#[unsafe(no_mangle)]
pub extern "C" fn krepis_live_buffers() -> i64 {
    live().as_ref().map_or(0, |set| set.len() as i64)
}

/// How many `free_buffer` calls were ignored (null, unknown or double frees).
#[unsafe(no_mangle)]
pub extern "C" fn krepis_invalid_frees() -> i64 {
    INVALID_FREES.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    #[test]
    fn ffi_buffer_layout_is_the_spec() {
        assert_eq!(size_of::<FfiBuffer>(), 32);
        assert_eq!(align_of::<FfiBuffer>(), 8);
        assert_eq!(offset_of!(FfiBuffer, data), 0);
        assert_eq!(offset_of!(FfiBuffer, len), 8);
        assert_eq!(offset_of!(FfiBuffer, cap), 16);
        assert_eq!(offset_of!(FfiBuffer, _padding), 24);
    }

    fn take(pointer: *mut FfiBuffer) -> proto::FfiResponse {
        // SAFETY: a buffer this library just handed out.
        let bytes = unsafe { std::slice::from_raw_parts((*pointer).data, (*pointer).len) }.to_vec();
        unsafe { free_buffer(pointer) };
        proto::FfiResponse::decode(bytes.as_slice()).unwrap()
    }

    fn error_code(response: &proto::FfiResponse) -> Option<&str> {
        match &response.result {
            Some(proto::ffi_response::Result::Error(e)) => Some(e.code.as_str()),
            _ => None,
        }
    }

    #[test]
    fn the_whole_call_sequence_through_the_c_abi() {
        let before = krepis_live_buffers();
        let wrong = proto::Handshake {
            abi_version: 99,
            sdk: "test".into(),
        }
        .encode_to_vec();
        let response = take(unsafe { initialize_kernel(wrong.as_ptr(), wrong.len()) });
        assert_eq!(error_code(&response), Some(codes::ABI_MISMATCH));
        let right = proto::Handshake {
            abi_version: ABI_VERSION,
            sdk: "test".into(),
        }
        .encode_to_vec();
        assert_eq!(
            error_code(&take(unsafe {
                initialize_kernel(right.as_ptr(), right.len())
            })),
            None
        );
        let id = b"req-7";
        let Some(proto::ffi_response::Result::Payload(context)) =
            take(unsafe { create_context(id.as_ptr(), id.len(), true) }).result
        else {
            panic!("no context")
        };
        let script = c"export function main(ctx: { request_id: string; is_turbo_mode: boolean }) { return [ctx.request_id, ctx.is_turbo_mode]; }";
        let Some(proto::ffi_response::Result::Payload(result)) =
            take(unsafe { execute_isolated(context.as_ptr(), context.len(), script.as_ptr()) })
                .result
        else {
            panic!("no result")
        };
        assert_eq!(
            proto::ExecutionResult::decode(result.as_slice())
                .unwrap()
                .json,
            "[\"req-7\",true]"
        );
        assert_eq!(
            error_code(&take(unsafe {
                execute_isolated(std::ptr::null(), 3, script.as_ptr())
            })),
            Some(codes::INVALID_ARGUMENT)
        );
        assert_eq!(krepis_live_buffers(), before);
        // A double free is detected and ignored, not undefined behaviour.
        let pointer = unsafe { create_context(id.as_ptr(), id.len(), false) };
        unsafe { free_buffer(pointer) };
        let invalid = krepis_invalid_frees();
        unsafe { free_buffer(pointer) };
        unsafe { free_buffer(std::ptr::null_mut()) };
        assert_eq!(krepis_invalid_frees(), invalid + 2);
    }
}
