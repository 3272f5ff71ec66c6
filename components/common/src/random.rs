//! Random values from the host (WASI `random`, a cryptographically secure source).

/// `bytes` random bytes.
pub fn bytes(bytes: u64) -> Vec<u8> {
    wasi::random::random::get_random_bytes(bytes)
}

/// `bytes` random bytes, in hex.
pub fn hex(bytes: u64) -> String {
    crate::hex::encode(&self::bytes(bytes))
}

/// A random number.
pub fn u64() -> u64 {
    wasi::random::random::get_random_u64()
}
