//! Standard input as a source: read to its end, no checkpoint.

use super::state::{ChunkRead, Pumped, SourceState, CHUNK_BYTES};
use super::{SourceError, SourceSummary};
use crate::outbox::Courier;
use crate::pipeline::LineProcessor;
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt};
use vigil_core::shutdown::Shutdown;
use vigil_core::transport::Producer;

/// Any async byte stream, read in chunks.
struct AsyncInput<R>(R);

impl<R: AsyncRead + Unpin + Send> ChunkRead for AsyncInput<R> {
    async fn read_chunk(&mut self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
        buf.resize(CHUNK_BYTES, 0);
        self.0.read(buf).await
    }
}

/// Reads standard input to its end (or until shutdown).
pub async fn run_stdin(
    processor: LineProcessor,
    producer: Arc<dyn Producer>,
    max_line_bytes: usize,
    shutdown: Shutdown,
    handed_over: impl FnOnce(),
) -> Result<SourceSummary, SourceError> {
    let mut state = SourceState::new(processor, Courier::start(producer), 0, 1, max_line_bytes);
    let mut stdin = AsyncInput(tokio::io::stdin());
    let mut buf = Vec::new();
    let (pumped, _) = state.pump(&mut stdin, &mut buf, Path::new("-"), &shutdown, usize::MAX).await?;
    let stopped = pumped == Pumped::Stopped;
    if !stopped {
        state.finish_input().await?;
    }
    handed_over();
    if stopped {
        tracing::info!("stdin: stopped before its end");
    }
    Ok(state.close(&shutdown).await?.0)
}
