//! The host's clocks: waiting on the monotonic one, the wall clock since the Unix epoch, and
//! instants to time a request by.
//!
//! In a component they are WASI 0.2's clocks, read directly: std's `SystemTime::now` and
//! `Instant::now` read the same clocks through the preview 1 adapter, behind an `unwrap` whose
//! `Debug` of `io::Error` weighed 4.3 KB in every component. Built for the machine (the unit
//! tests), std's clocks.

use std::time::Duration;

/// Wait without spending CPU: the host suspends the component on a clock pollable.
pub fn sleep(duration: Duration) {
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    wasi::clocks::monotonic_clock::subscribe_duration(nanos).block();
}

/// Now, in seconds since the Unix epoch (0 for a clock set before it).
pub fn unix_seconds() -> u64 {
    since_epoch().as_secs()
}

/// Now, since the Unix epoch, to the nanosecond the host gives (zero for a clock set before
/// it): for dates with their milliseconds.
#[cfg(target_arch = "wasm32")]
pub fn since_epoch() -> Duration {
    let now = wasi::clocks::wall_clock::now();
    Duration::new(now.seconds, now.nanoseconds)
}

#[cfg(not(target_arch = "wasm32"))]
pub fn since_epoch() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// A reading of the monotonic clock, as `std::time::Instant`.
#[derive(Clone, Copy, Debug)]
pub struct Instant(u64);

impl Instant {
    pub fn now() -> Self {
        Self(monotonic_nanos())
    }

    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(monotonic_nanos().saturating_sub(self.0))
    }
}

#[cfg(target_arch = "wasm32")]
fn monotonic_nanos() -> u64 {
    wasi::clocks::monotonic_clock::now()
}

#[cfg(not(target_arch = "wasm32"))]
fn monotonic_nanos() -> u64 {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    let elapsed = START.get_or_init(std::time::Instant::now).elapsed();
    u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)
}
