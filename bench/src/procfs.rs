//! CPU time and memory from `/proc`, without `unsafe` (the workspace forbids it) and without
//! new dependencies.

use std::collections::HashMap;
use std::time::Duration;

/// On-CPU nanoseconds of every live thread of this process, by thread id
/// (`/proc/self/task/<tid>/schedstat`, first field: nanosecond resolution, unlike the 10 ms
/// ticks of `/proc/self/stat`).
///
/// The kernel brings a thread's figure up to date only when it is switched out (or at a
/// scheduler tick, every 4 ms here), so [`ThreadCpu::now`] first sleeps for a microsecond:
/// the calling thread is switched out and its own figure is exact. Parked runtime threads are
/// exact already.
#[derive(Debug, Clone, Default)]
pub struct ThreadCpu(HashMap<String, u64>);

impl ThreadCpu {
    pub fn now() -> Self {
        std::thread::sleep(Duration::from_micros(1));
        let mut threads = HashMap::new();
        if let Ok(entries) = std::fs::read_dir("/proc/self/task") {
            for entry in entries.flatten() {
                let tid = entry.file_name().to_string_lossy().into_owned();
                let ns = std::fs::read_to_string(entry.path().join("schedstat"))
                    .ok()
                    .and_then(|s| s.split_whitespace().next()?.parse().ok());
                if let Some(ns) = ns {
                    threads.insert(tid, ns);
                }
            }
        }
        Self(threads)
    }

    /// CPU used since `earlier`, by the threads alive now (threads born in between count
    /// from zero; a thread that ended in between loses its share, which tokio's runtime
    /// threads do not).
    pub fn since(&self, earlier: &Self) -> Duration {
        let ns: u64 = self
            .0
            .iter()
            .map(|(tid, now)| now.saturating_sub(earlier.0.get(tid).copied().unwrap_or(0)))
            .sum();
        Duration::from_nanos(ns)
    }
}

/// A `kB` field of `/proc/<pid>/status`, e.g. `VmHWM` (peak RSS) or `VmRSS`.
pub fn status_kb(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Median of `values` (the mean of the middle two for an even count); 0 when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// (min, max) of `values`; (0, 0) when empty.
pub fn range(values: &[f64]) -> (f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if values.is_empty() {
        (0.0, 0.0)
    } else {
        (min, max)
    }
}
