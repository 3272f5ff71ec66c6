//! The wasmtime engine as Spin sets it up (spin-core's `Config::default`), and the components
//! compiled for it as Spin loads them (a wasip1 module made a component first), from a cache
//! of compiled code.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;

use anyhow::{Context, Result};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Spin's engine settings (spin-core's `Config::default`): the pooling instance allocator with
/// Spin's default limits, which keeps per-request instantiation cheap; the component-model
/// async ABI; and epoch interruption, whose checks Spin's compiled code carries (Spin ticks
/// the epoch for its request deadlines; with none set, nothing here ticks it).
pub(crate) fn engine_config() -> Config {
    const MB: usize = 1 << 20;
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(1_000)
        .max_component_instance_size(10 * MB)
        .max_core_instance_size(10 * MB)
        .max_core_instances_per_component(200)
        .max_tables_per_component(20)
        .table_elements(30_000)
        .max_memories_per_component(32)
        .total_memories(1_000)
        .total_tables(2_000)
        .max_memory_size(4 << 30)
        .linear_memory_keep_resident(2 * MB)
        .table_keep_resident(MB / 2);
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.wasm_component_model_async(true);
    config.epoch_interruption(true);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    config
}

/// Compile a component, turning a wasip1 module into a component first the way Spin does
/// (wit-component with the reactor adapter). The compiled code is cached, keyed by the
/// source's bytes and the engine's settings, so a restart does not recompile.
pub(crate) fn compile(engine: &Engine, source: &Path, cache: &Path) -> Result<Component> {
    let bytes = std::fs::read(source).with_context(|| {
        format!(
            "failed to read component source from disk at path {}",
            source.display()
        )
    })?;
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let cached = cache.join(format!("{:016x}.cwasm", hasher.finish()));
    if cached.exists() {
        // SAFETY: the file was written by `Component::serialize` below, for this engine.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, &cached) } {
            return Ok(component);
        }
    }
    let bytes = if wasmparser::Parser::is_core_wasm(&bytes) {
        wit_component::ComponentEncoder::default()
            .validate(true)
            .module(&bytes)?
            .adapter(
                wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
                wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
            )?
            .encode()
            .with_context(|| format!("cannot turn {} into a component", source.display()))?
    } else {
        bytes
    };
    let component = Component::new(engine, &bytes)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot compile {}", source.display()))?;
    if std::fs::create_dir_all(cache).is_ok() {
        let tmp = cached.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, component.serialize()?).is_ok() {
            let _ = std::fs::rename(&tmp, &cached);
        }
    }
    Ok(component)
}
