//! The bridge's C ABI with hostile bytes: the handshake, the request id and the context are
//! protobuf (or not) from the input, the script is what follows. Every call must answer with a
//! buffer holding an `FfiResponse`, every buffer must be taken back, and nothing may leak.
//!
//! Input layout (so seeds can be written by hand): one flags byte (bit 0: turbo, bit 1: use the
//! context the bridge made instead of the input's), three little-endian `u16` lengths (handshake,
//! request id, context), those three byte strings, then the script.
#![no_main]

use krepis_bridge::proto;
use krepis_bridge::{
    ABI_VERSION, create_context, execute_isolated, free_buffer, initialize_kernel,
    krepis_invalid_frees, krepis_live_buffers,
};
use krepis_kernel::engine::codes;
use libfuzzer_sys::fuzz_target;
use prost::Message;

const CODES: [&str; 7] = [
    codes::EXECUTION_TIMEOUT,
    codes::HEAP_LIMIT,
    codes::SCRIPT_ERROR,
    codes::OUTPUT_LIMIT,
    codes::ABI_MISMATCH,
    codes::INVALID_ARGUMENT,
    codes::INTERNAL,
];

/// Reads one answer and hands the buffer back; `Ok(payload)` or `Err(code)`.
fn take(buffer: *mut krepis_bridge::FfiBuffer) -> Result<Vec<u8>, String> {
    assert!(!buffer.is_null(), "a call answered with a null buffer");
    // SAFETY: a buffer the bridge just handed out, read before it is freed.
    let bytes = unsafe { std::slice::from_raw_parts((*buffer).data, (*buffer).len) }.to_vec();
    // SAFETY: handed back exactly once.
    unsafe { free_buffer(buffer) };
    let response = proto::FfiResponse::decode(bytes.as_slice()).expect("an FfiResponse");
    match response.result.expect("a result or an error") {
        proto::ffi_response::Result::Payload(payload) => Ok(payload),
        proto::ffi_response::Result::Error(error) => {
            assert!(CODES.contains(&error.code.as_str()), "{error:?}");
            Err(error.code)
        }
    }
}

/// The parts of one input.
struct Input<'a> {
    flags: u8,
    handshake: &'a [u8],
    id: &'a [u8],
    context: &'a [u8],
    script: &'a [u8],
}

fn split(data: &[u8]) -> Option<Input<'_>> {
    let (&flags, mut rest) = data.split_first()?;
    let mut lengths = [0usize; 3];
    for length in &mut lengths {
        let (head, tail) = rest.split_first_chunk::<2>()?;
        *length = u16::from_le_bytes(*head) as usize;
        rest = tail;
    }
    let mut parts: [&[u8]; 3] = [&[]; 3];
    for (part, length) in parts.iter_mut().zip(lengths) {
        let length = length.min(rest.len());
        (*part, rest) = rest.split_at(length);
    }
    let [handshake, id, context] = parts;
    Some(Input {
        flags,
        handshake,
        id,
        context,
        script: rest,
    })
}

/// The fuzzer may ask for any limits; keep them to 50 ms and 16 MB so a run stays short.
fn clamp_limits(context: &[u8]) -> Vec<u8> {
    match proto::KrepisContext::decode(context) {
        Ok(mut decoded) => {
            decoded.timeout_ms = decoded.timeout_ms.clamp(1, 50);
            decoded.max_heap_mb = decoded.max_heap_mb.clamp(1, 16);
            decoded.encode_to_vec()
        }
        Err(_) => context.to_vec(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(Input {
        flags,
        handshake,
        id,
        context,
        script,
    }) = split(data)
    else {
        return;
    };
    let (live, invalid) = (krepis_live_buffers(), krepis_invalid_frees());

    // SAFETY: pointer and length of a live slice.
    let answer = take(unsafe { initialize_kernel(handshake.as_ptr(), handshake.len()) });
    if let Ok(payload) = &answer {
        let info = proto::KernelInfo::decode(payload.as_slice()).expect("KernelInfo");
        assert_eq!(info.abi_version, ABI_VERSION);
    }
    let good = proto::Handshake {
        abi_version: ABI_VERSION,
        sdk: "fuzz".into(),
    }
    .encode_to_vec();
    // SAFETY: as above.
    take(unsafe { initialize_kernel(good.as_ptr(), good.len()) }).expect("the right handshake");

    // SAFETY: as above.
    let made = take(unsafe { create_context(id.as_ptr(), id.len(), flags & 1 == 1) });
    if let Ok(payload) = &made {
        let made = proto::KrepisContext::decode(payload.as_slice()).expect("KrepisContext");
        assert_eq!(made.request_id.as_bytes(), id);
    }
    let context = match (&made, flags & 2 == 2) {
        (Ok(payload), true) => clamp_limits(payload),
        _ => clamp_limits(context),
    };
    let mut script = script.to_vec();
    script.push(0);
    // SAFETY: a live slice and a NUL-terminated string.
    let result =
        take(unsafe { execute_isolated(context.as_ptr(), context.len(), script.as_ptr().cast()) });
    if let Ok(payload) = result {
        let result = proto::ExecutionResult::decode(payload.as_slice()).expect("ExecutionResult");
        serde_json::from_str::<serde_json::Value>(&result.json).expect("JSON");
    }
    // A null context with a length, and a null script, are refused, not read.
    // SAFETY: null pointers are part of the contract being tested.
    let refused = take(unsafe { execute_isolated(std::ptr::null(), 3, script.as_ptr().cast()) });
    assert_eq!(refused, Err(codes::INVALID_ARGUMENT.to_string()));
    // SAFETY: as above.
    let refused =
        take(unsafe { execute_isolated(context.as_ptr(), context.len(), std::ptr::null()) });
    assert!(refused.is_err());

    assert_eq!(krepis_live_buffers(), live, "buffers leaked");
    assert_eq!(krepis_invalid_frees(), invalid, "a buffer was freed twice");
});
