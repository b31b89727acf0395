//! The hits-over-time histogram: counted here, drawn as SVG on the server
//! (no script, no inline style: presentation attributes only).

use chrono::{DateTime, TimeDelta, Utc};
use maud::{html, Markup};
use serde::Serialize;

/// One bar: hits in `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    /// Start (inclusive).
    pub start: DateTime<Utc>,
    /// End (exclusive).
    pub end: DateTime<Utc>,
    /// Hits.
    pub count: usize,
}

/// `times` counted in `buckets` equal spans from `from` (else the oldest
/// time) to `to` (else just after the newest). Empty without times.
pub fn histogram(
    times: &[DateTime<Utc>],
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    buckets: usize,
) -> Vec<Bucket> {
    let (Some(oldest), Some(newest)) = (times.iter().min(), times.iter().max()) else { return Vec::new() };
    let start = from.unwrap_or(*oldest);
    let end = to.unwrap_or(*newest + TimeDelta::milliseconds(1)).max(start + TimeDelta::milliseconds(1));
    let span_ms = (end - start).num_milliseconds().max(1);
    let buckets = buckets.max(1);
    let width_ms = (span_ms + buckets as i64 - 1) / buckets as i64;
    let mut bars: Vec<Bucket> = (0..buckets)
        .map(|i| {
            let bar_start = start + TimeDelta::milliseconds(width_ms * i as i64);
            Bucket { start: bar_start, end: (bar_start + TimeDelta::milliseconds(width_ms)).min(end), count: 0 }
        })
        .collect();
    for t in times.iter().filter(|t| **t >= start && **t < end) {
        let index = ((*t - start).num_milliseconds() / width_ms) as usize;
        bars[index.min(buckets - 1)].count += 1;
    }
    bars
}

/// The histogram as an SVG bar chart with a tooltip per bar.
pub fn svg(bars: &[Bucket]) -> Markup {
    const WIDTH: usize = 600;
    const HEIGHT: usize = 80;
    let max = bars.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    let bar_width = WIDTH / bars.len().max(1);
    html! {
        svg class="histogram" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label="Hits over time" {
            @for (i, bar) in bars.iter().enumerate() {
                @let height = (bar.count * HEIGHT).div_ceil(max);
                rect x=(i * bar_width) y=(HEIGHT - height) width=(bar_width.saturating_sub(1)) height=(height) fill="#3b6ea5" {
                    title { (bar.count) " hits from " (bar.start.format("%Y-%m-%d %H:%M:%S")) " to " (bar.end.format("%Y-%m-%d %H:%M:%S")) " UTC" }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minute: i64) -> DateTime<Utc> {
        "2026-03-04T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + TimeDelta::minutes(minute)
    }

    #[test]
    fn hits_fall_in_equal_spans_over_the_range_or_the_hits() {
        let bars = histogram(&[t(0), t(1), t(9), t(30)], Some(t(0)), Some(t(60)), 6);
        assert_eq!(bars.iter().map(|b| b.count).collect::<Vec<_>>(), [3, 0, 0, 1, 0, 0]);
        assert_eq!((bars[0].start, bars[5].end), (t(0), t(60)));
        let bars = histogram(&[t(0), t(10)], None, None, 2);
        assert_eq!(bars.iter().map(|b| b.count).collect::<Vec<_>>(), [1, 1], "the newest is counted");
        assert_eq!(histogram(&[t(5)], None, None, 3).iter().map(|b| b.count).sum::<usize>(), 1);
        assert!(histogram(&[], None, None, 3).is_empty());
    }

    #[test]
    fn the_chart_has_one_bar_per_bucket_with_its_count() {
        let svg = svg(&histogram(&[t(0), t(0), t(9)], Some(t(0)), Some(t(10)), 2)).into_string();
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("<title>2 hits from 2026-03-04 10:00:00"), "{svg}");
        assert!(!svg.contains("style="), "no inline style under the CSP");
    }
}
