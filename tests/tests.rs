//! End-to-end tests across crates, driving the real `vigil` binary.

mod util;

mod cli;
mod context;
mod embedded;
mod kafka;
mod metrics;
