//! Compiles `proto/krepis_bridge.proto` with protox (pure Rust, no `protoc` needed) and prost.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/krepis_bridge.proto");
    let descriptors = protox::compile(["proto/krepis_bridge.proto"], ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
