//! Shared by the alerter's benchmarks.

use cpu_time::ThreadTime;
use std::hint::black_box;
use std::time::Duration;

/// The benchmark thread's CPU time (so a figure is per core) for running
/// `each` on every one of `items`, `iterations` times over.
pub fn cpu_time_over<T, R>(iterations: u64, items: &[T], mut each: impl FnMut(&T) -> R) -> Duration {
    let start = ThreadTime::now();
    for _ in 0..iterations {
        for item in items {
            black_box(each(item));
        }
    }
    start.elapsed()
}
