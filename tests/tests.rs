//! End-to-end tests across crates, driving the real `vigil` binary.

mod util;

mod browser;
mod cli;
mod console;
mod context;
mod dashboards;
mod embedded;
mod escalation;
mod kafka;
mod metrics;
