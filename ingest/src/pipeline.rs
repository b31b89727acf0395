//! From a raw line to events or a dead letter: the step shared by the
//! streaming sources and `vigil parse`.

use crate::enrich::Enricher;
use crate::lines::RawLine;
use crate::parse::{LineContext, LineUse, Parser};
use chrono::{DateTime, Utc};
use prometheus::IntCounter;
use std::sync::Arc;
use vigil_core::{metrics, DeadLetter, Event, EventKind, Label};

/// Parses the lines of one source.
pub struct LineProcessor {
    parser: Box<dyn Parser>,
    tenant: Label,
    source: Label,
    max_line_bytes: usize,
    /// This source's `vigil_lines_read_total`, resolved once, not per line.
    lines_read: IntCounter,
    /// This source's `vigil_deadletter_total`.
    dead_lettered: IntCounter,
    /// This source's `vigil_lines_used_total`, per [`LineUse`].
    used: [IntCounter; LineUse::ALL.len()],
    /// Enrichment shared with the other sources; `None` when nothing is
    /// configured, so such a source pays nothing for it.
    enricher: Option<Arc<Enricher>>,
    /// The file this processor's lines come from, for `log.file.path` and
    /// dead letters (each file of a source has its own processor).
    file: Option<Label>,
    /// `vigil_events_total` per (kind, format) this source has made so far,
    /// resolved once each rather than per event.
    events_made: Vec<(EventKind, Label, IntCounter)>,
}

impl LineProcessor {
    /// A processor for source `source` of tenant `tenant`.
    pub fn new(parser: Box<dyn Parser>, tenant: &str, source: &str, max_line_bytes: usize) -> Self {
        LineProcessor {
            parser,
            tenant: Label::from(tenant.to_string()),
            source: Label::from(source.to_string()),
            max_line_bytes,
            lines_read: metrics::LINES_READ.with_label_values(&[source]),
            dead_lettered: metrics::DEAD_LETTERED.with_label_values(&[source]),
            used: LineUse::ALL.map(|u| metrics::LINES_USED.with_label_values(&[source, u.as_str()])),
            enricher: None,
            file: None,
            events_made: Vec::new(),
        }
    }

    /// Enriches every event this processor makes with `enricher` (unless it
    /// has nothing configured).
    pub fn with_enricher(mut self, enricher: Arc<Enricher>) -> Self {
        self.enricher = enricher.is_active().then_some(enricher);
        self
    }

    /// Names the file this processor's lines are read from.
    pub fn set_file(&mut self, path: &std::path::Path) {
        self.file = Some(Label::from(path.display().to_string()));
    }

    /// The source name.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Parses `line`, pushing finished events onto `events`. `Err` holds the
    /// reason the line is rejected (over-long or not the format). Bytes that
    /// are not UTF-8 are replaced by U+FFFD before parsing, so a Latin-1
    /// user name does not cost the event; the event id is derived from the
    /// replaced text (the offset in it keeps ids unique), while a dead letter
    /// keeps the raw bytes.
    pub fn process(&mut self, line: &RawLine, now: DateTime<Utc>, events: &mut Vec<Event>) -> Result<(), String> {
        self.lines_read.inc();
        if let Some(len) = line.overlong {
            return Err(format!(
                "line is {len} bytes, over the limit of {} bytes (ingest.max_line_bytes); its first {} bytes are kept",
                self.max_line_bytes, self.max_line_bytes
            ));
        }
        // `from_utf8` checks a word at a time; the lossy walk only runs for
        // lines that need it.
        let text = match std::str::from_utf8(&line.bytes) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(&line.bytes),
        };
        let ctx = LineContext {
            tenant: &self.tenant,
            source: &self.source,
            line_no: line.line_no,
            offset: line.offset,
            now,
            read_as: None,
        };
        let before = events.len();
        let line_use = self.parser.parse(&text, &ctx, events).map_err(|e| e.0)?;
        self.used[line_use.index()].inc();
        self.finish(&mut events[before..]);
        Ok(())
    }

    /// Pushes events the parser has held longer than its hold time.
    pub fn flush_expired(&mut self, now: DateTime<Utc>, events: &mut Vec<Event>) {
        let before = events.len();
        self.parser.flush_expired(now, events);
        self.finish(&mut events[before..]);
    }

    /// Pushes every held event (end of input).
    pub fn flush_all(&mut self, events: &mut Vec<Event>) {
        let before = events.len();
        self.parser.flush_all(events);
        self.finish(&mut events[before..]);
    }

    /// Enriches and counts events just made, in the order they were made
    /// (a lease event teaches before the proxy line after it is attributed).
    fn finish(&mut self, made: &mut [Event]) {
        if let Some(enricher) = &self.enricher {
            made.iter_mut().for_each(|e| enricher.enrich(e));
        }
        for e in made.iter_mut() {
            e.log_file_path.clone_from(&self.file);
            self.events_made_counter(e).inc();
        }
    }

    /// This source's `vigil_events_total` counter for `event`'s kind and
    /// format (a source makes a handful of combinations at most).
    fn events_made_counter(&mut self, event: &Event) -> &IntCounter {
        let known =
            self.events_made.iter().position(|(kind, format, _)| *kind == event.kind && *format == event.log_format);
        let index = known.unwrap_or_else(|| {
            let counter = metrics::EVENTS.with_label_values(&[event.kind.as_str(), &event.log_format]);
            self.events_made.push((event.kind, event.log_format.clone(), counter));
            self.events_made.len() - 1
        });
        &self.events_made[index].2
    }

    /// Offset of the oldest line the parser still holds.
    pub fn oldest_held_offset(&self) -> Option<u64> {
        self.parser.oldest_held_offset()
    }

    /// The dead-letter record for a line that cannot be parsed at all (the
    /// rest of a damaged gzip file): counted as read and dead-lettered
    /// without going through [`LineProcessor::process`].
    pub fn reject(&self, line: &RawLine, reason: String) -> DeadLetter {
        self.lines_read.inc();
        self.dead_letter(line, reason)
    }

    /// The dead-letter record for a line [`LineProcessor::process`]
    /// rejected, counted.
    pub fn dead_letter(&self, line: &RawLine, reason: String) -> DeadLetter {
        self.dead_lettered.inc();
        DeadLetter {
            timestamp: Utc::now(),
            tenant: self.tenant.to_string(),
            source: self.source.to_string(),
            file: self.file.as_deref().map(str::to_string),
            line: line.line_no,
            offset: line.offset,
            reason,
            raw: line.bytes.clone(),
        }
    }
}
