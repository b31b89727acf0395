//! Where one stream's events and dead letters wait to be sent, and how far
//! the stream is durable.
//!
//! Lines are read in order; what each line made is added to the current
//! parcel and the line is then marked done with its end offset.
//! [`Outbox::send`] hands the parcel, with a fresh [`DeliveryGroup`], to the
//! source's [`Courier`]: a task of its own that serialises the records and
//! hands them to the producer, so parsing the next lines and serialising
//! these run side by side. One courier serves every stream (file) of a
//! source, so the parcels waiting for it, and the memory they hold, are
//! bounded per source, however many files it reads at once. The
//! acknowledged offset moves past a parcel's lines once its group, and every
//! group before it, is settled. One counter per parcel, not a future per
//! record: the producer's own thread reports deliveries without waking the
//! stream.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;
use vigil_core::shutdown::Shutdown;
use vigil_core::transport::{DeliveryGroup, Producer, RecordBatch, TransportError};
use vigil_core::{DeadLetter, Event};

/// Records after which [`Outbox::is_full`] asks for a send before more
/// lines are read.
const PARCEL_RECORDS: usize = 2048;

/// Parcels handed to a courier and not yet serialised; streams wait when
/// this many are queued (backpressure).
const PARCELS_QUEUED: usize = 4;

/// One record on its way out. Events are nearly every record: boxing them to
/// shrink the enum would cost an allocation each.
#[allow(clippy::large_enum_variant)]
enum Outgoing {
    Event(Event),
    DeadLetter(DeadLetter),
}

/// Records handed to the courier together, and the group counting their
/// deliveries.
struct Parcel {
    records: Vec<Outgoing>,
    group: Arc<DeliveryGroup>,
}

/// A source's courier: a handle on the task that serialises the parcels of
/// every stream of the source and hands them to the producer. The task ends
/// when the last handle is dropped.
#[derive(Clone)]
pub struct Courier {
    parcels: mpsc::Sender<Parcel>,
    /// Emptied parcels, given back so their room is reused.
    spare: Arc<Mutex<Vec<Vec<Outgoing>>>>,
}

impl Courier {
    /// Starts a courier for `producer` (so: inside a tokio runtime).
    pub fn start(producer: Arc<dyn Producer>) -> Courier {
        let (parcels, queue) = mpsc::channel(PARCELS_QUEUED);
        let spare = Arc::new(Mutex::new(Vec::new()));
        tokio::spawn(carry(producer, queue, spare.clone()));
        Courier { parcels, spare }
    }

    /// An empty parcel, reusing a given-back one when there is one.
    fn empty_parcel(&self) -> Vec<Outgoing> {
        let reused = self.spare.lock().unwrap_or_else(PoisonError::into_inner).pop();
        reused.unwrap_or_else(|| Vec::with_capacity(PARCEL_RECORDS))
    }
}

/// The courier's task: serialises each parcel and hands it to the producer,
/// then releases the parcel's hold on its group (with the error, if the
/// producer refused a record), and gives the emptied parcel back.
async fn carry(producer: Arc<dyn Producer>, mut queue: mpsc::Receiver<Parcel>, spare: Arc<Mutex<Vec<Vec<Outgoing>>>>) {
    let mut batch = RecordBatch::default();
    while let Some(Parcel { mut records, group }) = queue.recv().await {
        for record in &records {
            match record {
                Outgoing::Event(event) => batch.push_event(event),
                Outgoing::DeadLetter(dead) => batch.push_dead_letter(dead),
            }
        }
        records.clear();
        {
            let mut spare = spare.lock().unwrap_or_else(PoisonError::into_inner);
            if spare.len() < PARCELS_QUEUED + 2 {
                spare.push(records);
            }
        }
        let sent = producer.send_batch(&batch, &group).await;
        group.delivered(sent.map_err(|e| e.to_string()));
        batch.clear();
    }
}

/// One stream's unsent records and its deliveries in flight.
pub struct Outbox {
    parcel: Vec<Outgoing>,
    courier: Courier,
    /// End offset of the last line marked done (its records, if any, are in
    /// `parcel` or in flight).
    read_end: u64,
    /// Parcels sent and not yet known durable, in read order, each with the
    /// end offset of the last line it covers.
    in_flight: VecDeque<(Arc<DeliveryGroup>, u64)>,
    /// Offset up to which everything was durable when last pruned.
    acked: u64,
}

impl Outbox {
    /// An empty outbox for a stream starting at `start_offset`, whose
    /// parcels `courier` carries.
    pub fn new(courier: Courier, start_offset: u64) -> Self {
        Outbox { parcel: Vec::new(), courier, read_end: start_offset, in_flight: VecDeque::new(), acked: start_offset }
    }

    /// Adds `event` to the parcel.
    pub fn event(&mut self, event: Event) {
        self.parcel.push(Outgoing::Event(event));
    }

    /// Adds `dead` to the parcel.
    pub fn dead_letter(&mut self, dead: DeadLetter) {
        self.parcel.push(Outgoing::DeadLetter(dead));
    }

    /// Marks every line up to `end_offset` done: its records, if any, are
    /// the ones added so far.
    pub fn lines_done(&mut self, end_offset: u64) {
        self.read_end = self.read_end.max(end_offset);
    }

    /// Whether the parcel is big enough to send before reading on.
    pub fn is_full(&self) -> bool {
        self.parcel.len() >= PARCEL_RECORDS
    }

    /// Hands the parcel to the courier (waiting while it has
    /// [`PARCELS_QUEUED`] parcels to carry).
    pub async fn send(&mut self) -> Result<(), TransportError> {
        self.prune();
        if self.parcel.is_empty() {
            // Lines that sent nothing become durable with what came before.
            match self.in_flight.back_mut() {
                Some((_, end)) => *end = self.read_end,
                None => self.acked = self.read_end,
            }
            return Ok(());
        }
        let group = Arc::new(DeliveryGroup::new());
        // Held by the courier until every record is handed on, so the group
        // cannot look settled before then.
        group.expect();
        let records = std::mem::replace(&mut self.parcel, self.courier.empty_parcel());
        self.in_flight.push_back((group.clone(), self.read_end));
        self.courier.parcels.send(Parcel { records, group }).await.map_err(|_| TransportError::Closed)
    }

    /// Drops durable parcels from the front, moving the acknowledged offset.
    fn prune(&mut self) {
        while let Some((group, end)) = self.in_flight.front() {
            if !group.is_durable() {
                break;
            }
            self.acked = *end;
            self.in_flight.pop_front();
        }
    }

    /// Offset up to which every record is durable.
    pub fn acked(&self) -> u64 {
        let mut acked = self.acked;
        for (group, end) in &self.in_flight {
            if !group.is_durable() {
                return acked;
            }
            acked = *end;
        }
        if self.parcel.is_empty() {
            acked = acked.max(self.read_end);
        }
        acked
    }

    /// Whether a delivery has failed (the stream must stop; [`Outbox::finish`]
    /// reports the error).
    pub fn failed(&self) -> bool {
        self.in_flight.iter().any(|(group, _)| group.failure().is_some())
    }

    /// Sends what is left and waits for every delivery; once `shutdown` says
    /// stop, waits at most `grace` more. Returns the final acknowledged
    /// offset, or the first delivery error.
    pub async fn finish(mut self, shutdown: Shutdown, grace: Duration) -> Result<u64, TransportError> {
        self.send().await?;
        let in_flight = &self.in_flight;
        let settled = async move {
            for (group, _) in in_flight {
                group.settled().await?;
            }
            Ok(())
        };
        shutdown.within_grace(grace, settled).await.unwrap_or(Ok(())).map(|()| self.acked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use vigil_core::transport::{Delivery, Topic};

    /// A producer whose deliveries the test reports by hand.
    #[derive(Default)]
    struct HeldProducer {
        groups: Mutex<Vec<(Arc<DeliveryGroup>, usize)>>,
    }

    impl HeldProducer {
        /// Reports every delivery of the `n`-th batch sent, once the courier
        /// has handed it over.
        async fn deliver(&self, n: usize, result: Result<(), String>) {
            let (group, records) = loop {
                if let Some(sent) = self.groups.lock().unwrap().get(n).cloned() {
                    break sent;
                }
                tokio::task::yield_now().await;
            };
            for _ in 0..records {
                group.delivered(result.clone());
            }
        }
    }

    #[async_trait]
    impl Producer for HeldProducer {
        async fn send(&self, _: Topic, _: &[u8], _: Vec<u8>) -> Result<Delivery, TransportError> {
            unreachable!("the outbox sends batches")
        }

        async fn send_batch(&self, batch: &RecordBatch, group: &Arc<DeliveryGroup>) -> Result<(), TransportError> {
            batch.records().for_each(|_| group.expect());
            self.groups.lock().unwrap().push((group.clone(), batch.len()));
            Ok(())
        }

        async fn flush(&self, _: Duration) -> Result<(), TransportError> {
            Ok(())
        }
    }

    fn dead(line: u64) -> DeadLetter {
        DeadLetter {
            timestamp: chrono::Utc::now(),
            tenant: "t".into(),
            source: "s".into(),
            file: None,
            line,
            offset: 0,
            reason: "test".into(),
            raw: b"x".to_vec(),
        }
    }

    #[tokio::test]
    async fn offset_moves_only_past_batches_that_are_durable_in_order() {
        let producer = Arc::new(HeldProducer::default());
        let mut outbox = Outbox::new(Courier::start(producer.clone()), 5);
        outbox.dead_letter(dead(1));
        outbox.lines_done(10);
        assert_eq!(outbox.acked(), 5, "the record is not even sent");
        outbox.send().await.unwrap();
        outbox.lines_done(20); // a line that sent nothing
        outbox.send().await.unwrap();
        outbox.dead_letter(dead(3));
        outbox.lines_done(30);
        outbox.send().await.unwrap();
        producer.deliver(1, Ok(())).await;
        assert_eq!(outbox.acked(), 5, "the first batch is not durable yet");
        producer.deliver(0, Ok(())).await;
        assert_eq!(outbox.acked(), 30);
        assert_eq!(outbox.finish(Shutdown::never(), Duration::from_secs(5)).await.unwrap(), 30);
    }

    #[tokio::test]
    async fn a_failed_delivery_stops_the_offset_and_is_reported() {
        let producer = Arc::new(HeldProducer::default());
        let mut outbox = Outbox::new(Courier::start(producer.clone()), 0);
        outbox.dead_letter(dead(1));
        outbox.lines_done(10);
        outbox.send().await.unwrap();
        producer.deliver(0, Err("message timed out".into())).await;
        assert!(outbox.failed());
        assert_eq!(outbox.acked(), 0);
        let error = outbox.finish(Shutdown::never(), Duration::from_secs(5)).await.unwrap_err();
        assert!(error.to_string().contains("message timed out"), "{error}");
    }

    #[tokio::test]
    async fn lines_that_send_nothing_are_durable_at_once() {
        let mut outbox = Outbox::new(Courier::start(Arc::new(HeldProducer::default())), 0);
        outbox.lines_done(42);
        assert_eq!(outbox.acked(), 42);
        outbox.send().await.unwrap();
        assert_eq!(outbox.acked(), 42);
    }
}
