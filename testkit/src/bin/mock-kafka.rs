//! `vigil-mock-kafka`: librdkafka's in-process mock cluster, hosted in its own
//! process so that separate programs (Vigil's services, `kcat`) can share it
//! in benchmarks and manual runs.
//!
//! Prints `bootstrap HOST:PORT,...` as its first line once the topics exist,
//! then serves until killed.

use clap::Parser;
use rdkafka::mocking::MockCluster;
use std::io::Write;
use std::process::ExitCode;

/// Command-line options.
#[derive(Debug, Parser)]
#[command(name = "vigil-mock-kafka", about = "A librdkafka mock Kafka cluster in its own process.")]
struct Args {
    /// Number of brokers.
    #[arg(long, default_value_t = 3)]
    brokers: i32,
    /// A topic to create, as `NAME:PARTITIONS`; may be repeated.
    #[arg(long = "topic", value_parser = parse_topic)]
    topics: Vec<(String, i32)>,
    /// Replication factor of the topics created.
    #[arg(long, default_value_t = 1)]
    replication: i32,
}

fn parse_topic(text: &str) -> Result<(String, i32), String> {
    let (name, partitions) = text.rsplit_once(':').ok_or("expected NAME:PARTITIONS")?;
    let partitions = partitions.parse().map_err(|_| format!("{partitions:?} is not a number of partitions"))?;
    Ok((name.to_string(), partitions))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cluster = match MockCluster::new(args.brokers) {
        Ok(cluster) => cluster,
        Err(e) => {
            eprintln!("vigil-mock-kafka: cannot start the mock cluster: {e}");
            return ExitCode::FAILURE;
        }
    };
    for (name, partitions) in &args.topics {
        if let Err(e) = cluster.create_topic(name, *partitions, args.replication) {
            eprintln!("vigil-mock-kafka: cannot create topic {name}: {e}");
            return ExitCode::FAILURE;
        }
    }
    let mut stdout = std::io::stdout();
    if writeln!(stdout, "bootstrap {}", cluster.bootstrap_servers()).and_then(|()| stdout.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    loop {
        std::thread::park();
    }
}
