//! The Spin interfaces the components import, as Spin's `spin-world` generates them, and their
//! wiring into a linker: `fermyon:spin/sqlite@2.0.0` (`sqlite.rs`, Spin's `factor-sqlite`,
//! over a file as `sqlite-inproc` or a server as `sqlite-libsql`, `libsql.rs`),
//! `fermyon:spin/variables@2.0.0` (`variables.rs`, Spin's `factor-variables` with its
//! environment provider) and `fermyon:spin/key-value@2.0.0` (`key_value_host.rs`, Spin's
//! `factor-key-value`, over the stores of [`crate::key_value`]). Those files use the bindings
//! here; this one names none of them, so that nothing imports in a circle.
//!
//! Each interface is served by a state of its own, as each of Spin's factors has its instance
//! state; the request's store data hands each one out (see [`add_to_linker`]). Also here, as
//! in `spin-world`: the bound on what the host buffers for a guest, and a query result's rows
//! read under it (for both SQLite backends).

use wasmtime::component::{HasSelf, Linker};

wasmtime::component::bindgen!({
    path: "wit",
    world: "fermyon:spin/host",
    imports: { default: async | trappable },
    // `sqlite.connection` is left to the bindings (an opaque type), as Spin leaves it: its
    // connections are in a table of `sqlite.rs`'s own, by the resource's rep.
    with: {
        "fermyon:spin/key-value.store": crate::key_value::Store,
    },
});

use fermyon::spin::key_value;
use fermyon::spin::sqlite::{self, RowResult, Value};
use fermyon::spin::variables;

/// Serve the three interfaces to a store whose data is `T`: SQLite from the state `sqlite`
/// gives, key-value from `key_value`'s, variables from `variables`'.
pub fn add_to_linker<T, S, K, V>(
    linker: &mut Linker<T>,
    sqlite: fn(&mut T) -> &mut S,
    key_value: fn(&mut T) -> &mut K,
    variables: fn(&mut T) -> &mut V,
) -> wasmtime::Result<()>
where
    T: Send + 'static,
    S: sqlite::Host + Send + 'static,
    K: key_value::Host + Send + 'static,
    V: variables::Host + Send + 'static,
{
    sqlite::add_to_linker::<T, HasSelf<S>>(linker, sqlite)?;
    variables::add_to_linker::<T, HasSelf<V>>(linker, variables)?;
    key_value::add_to_linker::<T, HasSelf<K>>(linker, key_value)?;
    Ok(())
}

/// A query's rows as they are read, refused past Spin's bound on a result.
#[derive(Default)]
pub(crate) struct BoundedRows {
    pub rows: Vec<RowResult>,
    bytes: usize,
}

impl BoundedRows {
    pub fn push(&mut self, row: RowResult) -> Result<(), sqlite::Error> {
        self.bytes += row.values.iter().map(size).sum::<usize>();
        if self.bytes > MAX_RESULT_BYTES {
            return Err(sqlite::Error::Io(format!(
                "query result exceeds limit of {MAX_RESULT_BYTES} bytes"
            )));
        }
        self.rows.push(row);
        Ok(())
    }
}

/// Spin refuses a query result larger than this (its `MAX_HOST_BUFFERED_BYTES`).
pub(crate) const MAX_RESULT_BYTES: usize = 128 << 20;

/// About what a value weighs in memory, as Spin counts it.
fn size(value: &Value) -> usize {
    std::mem::size_of::<Value>()
        + match value {
            Value::Text(t) => t.len(),
            Value::Blob(b) => b.len(),
            _ => 0,
        }
}
