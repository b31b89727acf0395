//! `--format syslog`: a mixed system log (`/var/log/syslog`,
//! `/var/log/messages`, a central rsyslog or syslog-ng file, a syslog
//! network source) where many programs write, each line handed by its
//! syslog program (TAG) to the parser of that program's format.
//!
//! The header is read as [`SyslogUnwrap`](super::SyslogUnwrap) reads it (see
//! `unwrap.rs`): RFC 3164 as a syslog daemon writes its files
//! (`Mar  4 10:42:00 host prog[pid]: msg`, `<PRI>` optional), an RFC 3339
//! timestamp in its place (rsyslog's `RSYSLOG_FileFormat`), or RFC 5424
//! (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`). Timestamps follow
//! [`super::syslog`]: without a year, the latest year at most a day after the
//! reading time; without a zone, UTC.
//!
//! Routes, by program (`prog` of `prog[pid]:`, RFC 5424's APP-NAME):
//!
//! | program | parser (`log.format`) |
//! |---|---|
//! | `sshd`, `sshd-session`, `sshd-auth` | `sshd` |
//! | `postfix`, `postfix/*`, `postfix-*` (`postfix-out/smtp`, multi-instance) | `postfix` |
//! | `exim`, `exim4` | `exim` |
//! | `dhcpd`, `dnsmasq-dhcp`, `dnsmasq` | `dhcp` |
//! | `radiusd`, `freeradius` | `radius` |
//!
//! Each of those parsers lives as long as the source, so Postfix and Exim
//! correlate a message's lines across their programs (`smtpd`, `cleanup`,
//! `qmgr`, `smtp`) however other programs' lines are interleaved; it gets the
//! line as it reads it (without `<PRI>`, an RFC 5424 header rewritten as
//! `TIMESTAMP HOST APP[PROCID]: MSG`), and its events keep its `log.format`,
//! so searches and rules work as with that format alone. A line a routed
//! parser rejects is an error naming the program and the parser.
//!
//! Any other program's line (`CRON`, `systemd`, `kernel`, `sudo`...) is an
//! event with action `other`, `event.kind` `auth` (the kind such lines always
//! had in `auth.log`; Vigil has no kind for system messages),
//! `observer.product` the program, `host.name` the host and `log.format`
//! `syslog`. A line without a readable syslog header is an error.
//!
//! Every event made from a line has the whole line as `message` and an id
//! derived from it.

use super::unwrap::{adopt_line, native_line};
use super::{other_syslog_event, radius, sshd, syslog, LineContext, LineUse, ParseError, Parser};
use super::{DhcpParser, EximParser, PostfixParser, RadiusParser, SshdParser};
use chrono::{DateTime, Utc};
use vigil_core::config::IngestConfig;
use vigil_core::{Event, EventKind};

/// The `--format` name.
const NAME: &str = "syslog";

/// The `event.kind` of other programs' lines.
const OTHER_KIND: EventKind = EventKind::Auth;

/// A format the router hands lines to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Sshd,
    Postfix,
    Exim,
    Dhcp,
    Radius,
}

impl Family {
    /// Every family, in the order of the module documentation.
    const ALL: [Family; 5] = [Family::Sshd, Family::Postfix, Family::Exim, Family::Dhcp, Family::Radius];

    /// The family of a syslog program, if the router routes it.
    fn of(program: &str) -> Option<Family> {
        let postfix = program == "postfix" || program.starts_with("postfix/") || program.starts_with("postfix-");
        match program {
            p if sshd::PROGRAMS.contains(&p) => Some(Family::Sshd),
            _ if postfix => Some(Family::Postfix),
            "exim" | "exim4" => Some(Family::Exim),
            "dhcpd" | "dnsmasq-dhcp" | "dnsmasq" => Some(Family::Dhcp),
            p if radius::PROGRAMS.contains(&p) => Some(Family::Radius),
            _ => None,
        }
    }

    /// The format (parser name) of the family.
    fn format(self) -> &'static str {
        match self {
            Family::Sshd => "sshd",
            Family::Postfix => "postfix",
            Family::Exim => "exim",
            Family::Dhcp => "dhcp",
            Family::Radius => "radius",
        }
    }

    /// The family whose format is `format`.
    fn of_format(format: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.format() == format)
    }
}

/// Reads a mixed syslog file, one long-lived parser per routed format.
pub struct SyslogRouter {
    sshd: Box<dyn Parser>,
    postfix: Box<dyn Parser>,
    exim: Box<dyn Parser>,
    dhcp: Box<dyn Parser>,
    radius: Box<dyn Parser>,
}

impl SyslogRouter {
    /// A router whose correlating parsers (Postfix, Exim) hold messages
    /// within the limits of `ingest`.
    pub fn new(ingest: &IngestConfig) -> Self {
        SyslogRouter {
            sshd: Box::new(SshdParser),
            postfix: Box::new(PostfixParser::new(ingest)),
            exim: Box::new(EximParser::new(ingest)),
            dhcp: Box::new(DhcpParser),
            radius: Box::new(RadiusParser),
        }
    }

    /// A router that takes over a source for which `parser` was chosen on
    /// `line` (`auto`): when `parser` is of a routed format and `line` is a
    /// syslog line of one of that format's programs, `parser` becomes the
    /// router's parser of that format, keeping what it holds (a Postfix
    /// message begun in the lines before). Otherwise `parser` comes back:
    /// the source is not a syslog file of that format (Exim's own `mainlog`,
    /// FreeRADIUS's `radius.log`).
    pub fn adopting(
        parser: Box<dyn Parser>,
        line: &str,
        now: DateTime<Utc>,
        ingest: &IngestConfig,
    ) -> Result<Self, Box<dyn Parser>> {
        match Family::of_format(parser.name()) {
            Some(family) if routed_family(line, now) == Some(family) => {
                let mut router = SyslogRouter::new(ingest);
                *router.child(family) = parser;
                Ok(router)
            }
            _ => Err(parser),
        }
    }

    /// The parser of `family`.
    fn child(&mut self, family: Family) -> &mut Box<dyn Parser> {
        match family {
            Family::Sshd => &mut self.sshd,
            Family::Postfix => &mut self.postfix,
            Family::Exim => &mut self.exim,
            Family::Dhcp => &mut self.dhcp,
            Family::Radius => &mut self.radius,
        }
    }

    /// Every routed parser, for flushing.
    fn children_mut(&mut self) -> [&mut Box<dyn Parser>; 5] {
        [&mut self.sshd, &mut self.postfix, &mut self.exim, &mut self.dhcp, &mut self.radius]
    }
}

/// The family `line` is routed to, when it has a readable syslog header.
fn routed_family(line: &str, now: DateTime<Utc>) -> Option<Family> {
    let native = native_line(line, now).ok()?;
    Family::of(syslog::parse(&native, now).ok()?.program)
}

impl Parser for SyslogRouter {
    fn name(&self) -> &'static str {
        NAME
    }

    fn parse(&mut self, line: &str, ctx: &LineContext<'_>, out: &mut Vec<Event>) -> Result<LineUse, ParseError> {
        let native = native_line(line, ctx.now)?;
        let sys = syslog::parse(&native, ctx.now).map_err(|e| ParseError(format!("no readable syslog header: {e}")))?;
        let before = out.len();
        let inner_ctx = ctx.handing_on(line);
        let line_use = match Family::of(sys.program) {
            Some(family) => self.child(family).parse(&native, &inner_ctx, out).map_err(|e| {
                ParseError(format!(
                    "the {} parser rejected this `{}` line: {e}",
                    family.format(),
                    sys.program.escape_debug()
                ))
            })?,
            None => {
                out.push(other_syslog_event(OTHER_KIND, &sys, NAME, &native, ctx));
                LineUse::Event
            }
        };
        adopt_line(out.get_mut(before..).unwrap_or_default(), &native, line, sys.host, ctx);
        Ok(line_use)
    }

    fn flush_expired(&mut self, now: DateTime<Utc>, out: &mut Vec<Event>) {
        for child in self.children_mut() {
            child.flush_expired(now, out);
        }
    }

    fn flush_all(&mut self, out: &mut Vec<Event>) {
        for child in self.children_mut() {
            child.flush_all(out);
        }
    }

    fn oldest_held_offset(&self) -> Option<u64> {
        [&self.sshd, &self.postfix, &self.exim, &self.dhcp, &self.radius]
            .into_iter()
            .filter_map(|child| child.oldest_held_offset())
            .min()
    }
}

#[cfg(test)]
mod tests;
