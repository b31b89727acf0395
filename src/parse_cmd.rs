//! `vigil parse`: read lines, print each event as a JSON line on stdout and
//! each rejected line as `line N: reason` on stderr.

use anyhow::Context;
use chrono::Utc;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;
use vigil_core::config::IngestConfig;
use vigil_core::Event;
use vigil_ingest::lines::{LineSplitter, RawLine};
use vigil_ingest::pipeline::LineProcessor;

/// Parses `file` (stdin when `None`) with `format`. Fails only when the input
/// cannot be read or the format is unknown; rejected lines are reported, not
/// fatal.
pub fn parse(format: &str, max_line_bytes: usize, file: Option<&Path>) -> anyhow::Result<()> {
    let ingest = IngestConfig { max_line_bytes, ..IngestConfig::default() };
    let parser = vigil_ingest::parse::by_name(format, &ingest).with_context(|| {
        format!("unknown format {format:?}; known formats: {}", vigil_ingest::parse::FORMATS.join(", "))
    })?;
    let (mut input, source): (Box<dyn Read>, String) = match file {
        Some(path) => (
            Box::new(std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?),
            path.display().to_string(),
        ),
        None => (Box::new(io::stdin().lock()), "stdin".to_string()),
    };
    let mut printer = Printer {
        processor: LineProcessor::new(parser, "default", &source, max_line_bytes),
        out: BufWriter::new(io::stdout().lock()),
        err: BufWriter::new(io::stderr().lock()),
        events: Vec::new(),
    };
    let mut splitter = LineSplitter::new(0, 1, max_line_bytes);
    let mut buf = vec![0u8; 256 * 1024];
    let result = (|| -> io::Result<()> {
        loop {
            let n = input.read(&mut buf).map_err(|e| io::Error::new(e.kind(), format!("cannot read {source}: {e}")))?;
            if n == 0 {
                break;
            }
            let mut lines = Vec::new();
            splitter.push(&buf[..n], |l| lines.push(l));
            for line in &lines {
                printer.line(line)?;
            }
        }
        if let Some(line) = splitter.finish() {
            printer.line(&line)?;
        }
        printer.processor.flush_all(&mut printer.events);
        printer.print_events()?;
        printer.out.flush()?;
        printer.err.flush()
    })();
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

struct Printer<O: Write, E: Write> {
    processor: LineProcessor,
    out: O,
    err: E,
    events: Vec<Event>,
}

impl<O: Write, E: Write> Printer<O, E> {
    fn line(&mut self, line: &RawLine) -> io::Result<()> {
        if let Err(reason) = self.processor.process(line, Utc::now(), &mut self.events) {
            writeln!(self.err, "line {}: {}", line.line_no, reason)?;
        }
        self.print_events()
    }

    fn print_events(&mut self) -> io::Result<()> {
        for event in self.events.drain(..) {
            self.out.write_all(&event.to_json())?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }
}
