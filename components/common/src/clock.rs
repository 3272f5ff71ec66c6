//! The host's clocks: waiting on the monotonic one, and the wall clock in Unix seconds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
pub fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}
