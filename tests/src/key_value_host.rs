//! `fermyon:spin/key-value@2.0.0` as Spin's `factor-key-value` serves it: the stores one
//! request may open (by label, [`crate::key_value`]) and its open stores, in a table of their
//! own; each store's answers weighed against Spin's bound on what the host buffers.

use wasmtime::component::{Resource, ResourceTable};

use crate::key_value::{KeyValue, OpenError, Store};
use crate::spin::fermyon::spin::key_value;
use crate::spin::MAX_RESULT_BYTES;

/// One request's key-value (Spin's `factor-key-value` instance state): what it may open, and
/// the stores it holds open.
pub struct KeyValueState {
    key_value: KeyValue,
    table: ResourceTable,
}

impl KeyValueState {
    pub fn new(key_value: KeyValue) -> Self {
        Self {
            key_value,
            table: ResourceTable::new(),
        }
    }
}

impl key_value::HostStore for KeyValueState {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<Store>, key_value::Error>> {
        Ok(match self.key_value.open(&label).await {
            Ok(store) => Ok(self.table.push(store)?),
            Err(OpenError::AccessDenied) => Err(key_value::Error::AccessDenied),
            Err(OpenError::NoSuchStore) => Err(key_value::Error::NoSuchStore),
            Err(OpenError::Other(e)) => Err(key_value::Error::Other(e)),
        })
    }

    async fn get(
        &mut self,
        store: Resource<Store>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, key_value::Error>> {
        let store = self.table.get(&store)?;
        Ok(store.get(&key, MAX_RESULT_BYTES).await.map_err(other))
    }

    async fn set(
        &mut self,
        store: Resource<Store>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), key_value::Error>> {
        let store = self.table.get(&store)?;
        Ok(store.set(&key, &value).await.map_err(other))
    }

    async fn delete(
        &mut self,
        store: Resource<Store>,
        key: String,
    ) -> wasmtime::Result<Result<(), key_value::Error>> {
        let store = self.table.get(&store)?;
        Ok(store.delete(&key).await.map_err(other))
    }

    async fn exists(
        &mut self,
        store: Resource<Store>,
        key: String,
    ) -> wasmtime::Result<Result<bool, key_value::Error>> {
        let store = self.table.get(&store)?;
        Ok(store.exists(&key).await.map_err(other))
    }

    async fn get_keys(
        &mut self,
        store: Resource<Store>,
    ) -> wasmtime::Result<Result<Vec<String>, key_value::Error>> {
        let store = self.table.get(&store)?;
        Ok(store.get_keys(MAX_RESULT_BYTES).await.map_err(other))
    }

    async fn drop(&mut self, store: Resource<Store>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}

impl key_value::Host for KeyValueState {}

/// A store's error: `other`, with the store's text.
fn other(text: String) -> key_value::Error {
    key_value::Error::Other(text)
}
