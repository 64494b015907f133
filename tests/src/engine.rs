//! The wasmtime engine, configured as Spin 4.0.2 configures its own (`spin-core`'s
//! `Config::default` and `StoreBuilder`), so that instantiation and execution cost here
//! what they cost under `spin up`: the pooling instance allocator with Spin's limits,
//! and epoch interruption with a 10 ms ticker and a far deadline on every store.

use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Spin's `DEFAULT_EPOCH_TICK_INTERVAL`.
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Spin's deadline for a store with no timeout: epoch checks run, and never trip.
pub const EPOCH_DEADLINE: u64 = u64::MAX / 2;

const MB: usize = 1 << 20;
const GB: usize = 1 << 30;

/// Spin's default limits (`SPIN_MAX_INSTANCE_COUNT` = 1000 and the factors derived
/// from it), without its environment-variable escape hatches.
fn pooling() -> PoolingAllocationConfig {
    let max_instances = 1_000;
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(max_instances)
        .total_memories(max_instances)
        .total_tables(2 * max_instances)
        .total_stacks(max_instances)
        .total_core_instances(4 * max_instances)
        .table_elements(100_000)
        .max_component_instance_size(10 * MB)
        .max_core_instance_size(10 * MB)
        .max_core_instances_per_component(200)
        .max_tables_per_component(64)
        .max_memories_per_component(32)
        .max_tables_per_module(2)
        .max_memories_per_module(2)
        .max_memory_size(4 * GB)
        .linear_memory_keep_resident(2 * MB)
        .table_keep_resident(MB / 2);
    pooling
}

/// Spin's engine. Like Spin, it falls back to on-demand allocation where the address
/// space cannot hold the pool.
pub fn spin_like() -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling()));
    let engine = match Engine::new(&config) {
        Ok(engine) => engine,
        Err(_) => {
            config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
            Engine::new(&config)?
        }
    };
    start_ticker(&engine);
    Ok(engine)
}

/// One ticker per engine, as Spin's `epoch_ticker_thread`; it stops with the engine.
fn start_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawn the epoch ticker");
}
