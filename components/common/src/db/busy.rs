//! Waiting out a busy database: tries spaced by a growing, jittered back-off, up to a bound.

use crate::{
    clock::sleep,
    error::{is_busy, ApiError},
    random,
};

use super::failure::failed;

/// How long a write waits for the write lock before it gives up with 503, unless the Spin
/// variable [`LOCK_TIMEOUT_VARIABLE`] says otherwise.
const LOCK_TIMEOUT_MS: u64 = 5000;

/// The Spin variable bounding the wait for the write lock, in milliseconds.
const LOCK_TIMEOUT_VARIABLE: &str = "db_lock_timeout_ms";

/// The waits between two tries for the write lock: the first under [`FIRST_BACKOFF_US`], the
/// ceiling doubling with each try up to [`MAX_BACKOFF_US`], or [`LATE_MAX_BACKOFF_US`] once
/// a fifth of the bound has passed. Measured with 64 writers (`cargo bench -p testhost --
/// overload`): with a 16 ms ceiling, the waiters' tries brought the writes down to 14 a second
/// with the CPUs busy (most likely because each try holds SQLite's shared lock for a moment,
/// which the holder's commit must wait out, longer when the CPUs are busy); with 100 ms, 240
/// to 490 a second busy and 510 to 700 quiet, over three runs.
const FIRST_BACKOFF_US: u64 = 1_000;

const MAX_BACKOFF_US: u64 = 100_000;

const LATE_MAX_BACKOFF_US: u64 = 50_000;

/// Run `statement` (`sql`) until the database is not busy, waiting between tries as
/// [`backoff`] says, or 503 when it stays busy past the bound (the Spin variable
/// `db_lock_timeout_ms`, 5 s unless set; read only when first busy). Busy includes a
/// libSQL server's interruption ([`is_busy`]): a statement that failed either way did
/// nothing, and may be run again.
pub(super) fn while_busy<T>(
    sql: &str,
    mut statement: impl FnMut() -> Result<T, spin_sdk::sqlite::Error>,
) -> Result<T, ApiError> {
    let mut waited: Option<(crate::clock::Instant, std::time::Duration)> = None;
    let mut tries = 0u32;
    loop {
        let e = match statement() {
            Ok(value) => return Ok(value),
            Err(e) if is_busy(&e) => e,
            Err(e) => return Err(failed(&e, sql)),
        };
        let (started, bound) =
            *waited.get_or_insert_with(|| (crate::clock::Instant::now(), lock_timeout()));
        let Some(left) = bound
            .checked_sub(started.elapsed())
            .filter(|d| !d.is_zero())
        else {
            return Err(ApiError::service_unavailable(format!(
                "sqlite: {} in `{sql}`: the database was busy for {} ms ({tries} tries)",
                crate::host_error::sqlite(&e),
                // Not the `u128` of `as_millis`, whose printing no other message needs.
                u64::try_from(bound.as_millis()).unwrap_or(u64::MAX)
            )));
        };
        // Past a fifth of the bound, a waiter asks more often than the younger ones.
        let late = left < bound * 4 / 5;
        let random = random::u64();
        sleep(backoff(tries, late, random).min(left));
        tries += 1;
    }
}

/// The bound on the wait for the write lock: the Spin variable `db_lock_timeout_ms`, else
/// [`LOCK_TIMEOUT_MS`] (also when it is not a number).
fn lock_timeout() -> std::time::Duration {
    let ms = spin_sdk::variables::get(LOCK_TIMEOUT_VARIABLE)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(LOCK_TIMEOUT_MS);
    std::time::Duration::from_millis(ms)
}

/// The wait before try `tries + 1` for the write lock: its ceiling doubles from
/// [`FIRST_BACKOFF_US`] up to [`MAX_BACKOFF_US`], or up to [`LATE_MAX_BACKOFF_US`] for a
/// `late` waiter (past a fifth of its bound), which so asks more often than the younger ones,
/// who, coming last, would otherwise get the lock first; the wait is drawn (from `random`) in
/// the upper half of the ceiling.
fn backoff(tries: u32, late: bool, random: u64) -> std::time::Duration {
    let max = if late {
        LATE_MAX_BACKOFF_US
    } else {
        MAX_BACKOFF_US
    };
    let ceiling = FIRST_BACKOFF_US
        .saturating_mul(1u64 << tries.min(16))
        .min(max);
    let half = ceiling / 2;
    std::time::Duration::from_micros(ceiling - half + random % (half + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_bound_with_jitter() {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        // The ceiling: 1, 2, 4, ... 64, 100, 100 ms (50 ms once late); each wait in its upper
        // half.
        let ceilings = [
            (0, false, 1.0),
            (1, false, 2.0),
            (2, false, 4.0),
            (6, false, 64.0),
            (7, false, 100.0),
            (30, false, 100.0),
            (2, true, 4.0),
            (6, true, 50.0),
            (30, true, 50.0),
        ];
        for (tries, late, ceiling) in ceilings {
            assert_eq!(ms(backoff(tries, late, 0)), ceiling / 2.0, "try {tries}");
            let top = ceiling as u64 * 500;
            assert_eq!(ms(backoff(tries, late, top)), ceiling, "try {tries}");
            for random in [1, 7, 12345, u64::MAX] {
                let wait = ms(backoff(tries, late, random));
                assert!(
                    wait >= ceiling / 2.0 && wait <= ceiling,
                    "{tries} {random}: {wait}"
                );
            }
        }
        assert_eq!(backoff(u32::MAX, false, 9), backoff(40, false, 9));
        // Different draws, different waits: waiters do not ask in step.
        let waits: std::collections::BTreeSet<_> =
            (0..100u64).map(|r| backoff(9, false, r * 7919)).collect();
        assert!(waits.len() > 50);
    }
}
