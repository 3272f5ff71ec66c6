//! Waiting on the host's monotonic clock.

use std::time::Duration;

/// Wait without spending CPU: the host suspends the component on a clock pollable.
pub fn sleep(duration: Duration) {
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    wasi::clocks::monotonic_clock::subscribe_duration(nanos).block();
}
