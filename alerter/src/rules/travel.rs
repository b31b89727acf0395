//! The impossible-travel rule type: two sign-ins of one account whose
//! places (`source.geo.lat`, `source.geo.lon`, as Entra ID logs them) are
//! at least `min_km` apart, and further apart than `max_kmh` allows in the
//! time between them: one of the two is not the account's owner (or uses a
//! VPN). Each group keeps its recent located sign-ins; an event is compared
//! with every one of them less than `within_secs` away in time, before or
//! after it (so a late event still finds its pair).

use super::condition::Filter;
use super::groups::{describe_duration, GroupBy, GroupState, Grouped};
use super::rule_type::RuleType;
use super::window::stable_hash;
use super::{Field, RuleMatch, RulesError, Setup};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vigil_core::config::TravelConfig;
use vigil_core::Event;

/// Located sign-ins kept per group at most (the newest).
const KEEP: usize = 16;

/// The Earth's mean radius, in km.
const EARTH_RADIUS_KM: f64 = 6371.0;

/// One located sign-in: time (ms), event id hash, latitude, longitude,
/// country (may be empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Fix(i64, u64, f64, f64, String);

/// A group's recent located sign-ins, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fixes(Vec<Fix>);

impl GroupState for Fixes {
    fn newest(&self) -> Option<i64> {
        self.0.last().map(|f| f.0)
    }
}

/// One impossible-travel rule.
#[derive(Debug)]
pub struct Travel {
    id: String,
    filter: Filter,
    max_kmh: f64,
    min_km: f64,
    grouped: Grouped<Fixes>,
}

impl Travel {
    /// Rule `id` (at `index`) as `config` says, for the events `filter`
    /// admits.
    pub fn new(
        index: usize,
        id: &str,
        config: &TravelConfig,
        filter: Filter,
        setup: &Setup,
    ) -> Result<Travel, RulesError> {
        if config.max_kmh == 0 || config.within_secs == 0 {
            return Err(RulesError::Invalid {
                rule: id.to_string(),
                message: "needs travel.max_kmh and travel.within_secs of at least 1".into(),
            });
        }
        Ok(Travel {
            id: id.to_string(),
            filter,
            max_kmh: f64::from(config.max_kmh),
            min_km: f64::from(config.min_km),
            grouped: Grouped::new(index, id, &config.group_by, config.within_secs, setup)?,
        })
    }
}

/// The great-circle distance in km between two places (degrees).
pub fn distance_km((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

impl RuleType for Travel {
    fn id(&self) -> &str {
        &self.id
    }

    fn observe(&mut self, event: &Event, found: &mut Vec<RuleMatch>) {
        let (Some(lat), Some(lon)) = (event.source_lat, event.source_lon) else { return };
        if !self.filter.admits(event) {
            return;
        }
        let Some(key) = self.grouped.group_by.key(event) else { return };
        let window = self.grouped.window;
        let at = event.timestamp.timestamp_millis();
        let hash = stable_hash(&event.id);
        let fixes = self.grouped.groups.entry(key.clone());
        let newest = fixes.newest().map_or(at, |n| n.max(at));
        if at <= window.horizon(newest) {
            return;
        }
        // The fastest journey to or from another sign-in within the window.
        let mut fastest: Option<(f64, f64, i64, &Fix)> = None;
        for fix in fixes.0.iter().filter(|f| f.1 != hash && (f.0 - at).abs() < window.within) {
            let km = distance_km((fix.2, fix.3), (lat, lon));
            let ms = (fix.0 - at).abs();
            let kmh = if ms == 0 { f64::INFINITY } else { km / (ms as f64 / 3_600_000.0) };
            if km >= self.min_km && kmh > self.max_kmh && fastest.is_none_or(|(_, best, ..)| kmh > best) {
                fastest = Some((km, kmh, ms, fix));
            }
        }
        let described = fastest.map(|(km, kmh, ms, fix)| {
            let country = event.source_country.as_deref().unwrap_or("");
            let (from, to) = if fix.0 <= at { (fix.4.as_str(), country) } else { (country, fix.4.as_str()) };
            let places = if from.is_empty() || to.is_empty() { String::new() } else { format!(" from {from} to {to}") };
            let speed = if kmh.is_finite() { format!("{kmh:.0} km/h") } else { "at once".into() };
            format!("sign-ins {km:.0} km apart{places} within {} ({speed})", describe_duration((ms / 1000).max(1)))
        });
        if !fixes.0.iter().any(|f| f.1 == hash) {
            let country = event.source_country.clone().unwrap_or_default();
            let at_index = fixes.0.partition_point(|f| f.0 <= at);
            fixes.0.insert(at_index, Fix(at, hash, lat, lon, country));
            let horizon = window.horizon(newest);
            fixes.0.retain(|f| f.0 > horizon);
            let excess = fixes.0.len().saturating_sub(KEEP);
            fixes.0.drain(..excess);
        }
        if let Some(phrase) = described {
            let field = self.grouped.group_by.first_field().unwrap_or(Field::UserName);
            let by = self.grouped.group_by.describe();
            let phrase = if by.is_empty() { phrase } else { format!("{phrase} by {by} {}", GroupBy::display(&key)) };
            found.push(self.grouped.matched(event, &key, field, phrase));
        }
    }

    fn checkpoint(&mut self, now: DateTime<Utc>) -> Option<serde_json::Value> {
        self.grouped.checkpoint(now)
    }

    fn restore(&mut self, saved: serde_json::Value) -> Result<(), String> {
        self.grouped.restore(saved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{at, auth, observe, setup};

    const LEEDS: (f64, f64) = (53.8, -1.55);
    const MOSCOW: (f64, f64) = (55.75, 37.62);
    const MANCHESTER: (f64, f64) = (53.48, -2.24);

    fn travel() -> Travel {
        let config: TravelConfig = toml::from_str("").unwrap();
        Travel::new(0, "travel", &config, Filter::default(), &setup(0)).unwrap()
    }

    fn sign_in(id: &str, secs: i64, user: &str, (lat, lon): (f64, f64), country: &str) -> Event {
        let mut e = auth(id, secs, "logged-in", user, "81.2.69.144");
        (e.source_lat, e.source_lon, e.source_country) = (Some(lat), Some(lon), Some(country.into()));
        e
    }

    #[test]
    fn distances_are_great_circle_kilometres() {
        let leeds_moscow = distance_km(LEEDS, MOSCOW);
        assert!((2480.0..2495.0).contains(&leeds_moscow), "{leeds_moscow}");
        assert!(distance_km(LEEDS, LEEDS) < 1e-9);
    }

    #[test]
    fn leeds_then_moscow_within_two_hours_matches_and_a_day_later_does_not() {
        let mut t = travel();
        assert!(observe(&mut t, &sign_in("1", 0, "s.hughes", LEEDS, "GB")).is_empty());
        let found = observe(&mut t, &sign_in("2", 7200, "s.hughes", MOSCOW, "RU"));
        assert_eq!(found.len(), 1, "2488 km in 2 hours: 1244 km/h");
        assert_eq!(found[0].group.as_deref(), Some("s.hughes"));
        assert_eq!(
            found[0].phrase,
            "sign-ins 2488 km apart from GB to RU within 2 hours (1244 km/h) by user.name s.hughes"
        );
        assert!(observe(&mut t, &sign_in("3", 7200, "other", LEEDS, "GB")).is_empty(), "another account");
        let mut t = travel();
        observe(&mut t, &sign_in("1", 0, "s.hughes", LEEDS, "GB"));
        assert!(observe(&mut t, &sign_in("2", 3 * 3600, "s.hughes", MOSCOW, "RU")).is_empty(), "829 km/h: a flight");
        assert!(observe(&mut t, &sign_in("3", 86_400 + 3 * 3600, "s.hughes", LEEDS, "GB")).is_empty());
    }

    #[test]
    fn nearby_places_never_count_however_fast() {
        let mut t = travel();
        observe(&mut t, &sign_in("1", 0, "s.hughes", LEEDS, "GB"));
        assert!(observe(&mut t, &sign_in("2", 1, "s.hughes", MANCHESTER, "GB")).is_empty(), "55 km: geo-IP jitter");
        let mut unplaced = sign_in("3", 2, "s.hughes", MOSCOW, "RU");
        unplaced.source_lat = None;
        assert!(observe(&mut t, &unplaced).is_empty(), "no coordinates: not compared");
    }

    #[test]
    fn a_late_sign_in_finds_its_pair_and_a_replay_reports_the_same() {
        let mut t = travel();
        observe(&mut t, &sign_in("2", 3600, "s.hughes", MOSCOW, "RU"));
        let late = sign_in("1", 0, "s.hughes", LEEDS, "GB");
        let found = observe(&mut t, &late);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].phrase.starts_with("sign-ins 2488 km apart from GB to RU within 1 hour"),
            "{}",
            found[0].phrase
        );
        assert_eq!(observe(&mut t, &late), found, "replayed");
        assert_eq!(t.grouped.groups.len(), 1);
        let saved = t.checkpoint(at(3600)).unwrap();
        let mut back = travel();
        back.restore(saved).unwrap();
        assert_eq!(observe(&mut back, &sign_in("3", 3700, "s.hughes", LEEDS, "GB")).len(), 1, "Moscow then Leeds");
    }
}
