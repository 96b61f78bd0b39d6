//! Group commit for webhook deliveries. Concurrent requests hand their delivery to one writer,
//! which stores whatever has queued up in a single transaction: one commit (one fsync) for many
//! deliveries instead of one each (two such batches at a time on PostgreSQL). Every request
//! still waits for the commit that holds its delivery before it answers 202, so nothing is
//! acknowledged that is not durable.
//!
//! It also counts the requests waiting for their commit: the alert applier holds back while
//! there are any (see `workers::alert_inbox`), so that a sender's answer never queues behind
//! applying earlier notifications.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use flightdeck_store::{Backend, NewInbox, Store, StoreError};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Most deliveries per transaction.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<bool, String>>;

pub struct InboxWriter {
    queue: mpsc::Sender<(NewInbox, Reply)>,
    waiting: Arc<AtomicUsize>,
}

/// Counts one request as waiting from its creation until it is dropped, so a request whose
/// client went away (actix drops its future) stops counting too.
struct Waiting(Arc<AtomicUsize>);

impl Waiting {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Waiting(Arc::clone(count))
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl InboxWriter {
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (queue, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(store, rx));
        InboxWriter {
            queue,
            waiting: Arc::default(),
        }
    }

    /// Whether a request on this replica is waiting for its delivery to be committed.
    pub fn busy(&self) -> bool {
        self.waiting.load(Ordering::Relaxed) > 0
    }

    /// Stores a delivery durably; false when (source, delivery id) was already stored.
    pub async fn insert(&self, new: NewInbox) -> Result<bool, InboxWriteError> {
        let _waiting = Waiting::new(&self.waiting);
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((new, reply))
            .await
            .map_err(|_| InboxWriteError("the inbox writer stopped".into()))?;
        answer
            .await
            .map_err(|_| InboxWriteError("the inbox writer stopped".into()))?
            .map_err(InboxWriteError)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("storing the delivery failed: {0}")]
pub struct InboxWriteError(String);

/// Batches being committed at once on PostgreSQL. With one, a request that arrives while a
/// commit is under way waits for it to finish before its own batch can even start; with two,
/// its batch is sent at once and the two commits' WAL flushes overlap. SQLite has one writer
/// connection, so a second batch could only queue behind the first.
const POSTGRES_IN_FLIGHT: usize = 2;

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<(NewInbox, Reply)>) {
    let in_flight = match store.backend() {
        Backend::Postgres => POSTGRES_IN_FLIGHT,
        Backend::Sqlite => 1,
    };
    let slots = Arc::new(Semaphore::new(in_flight));
    loop {
        // A free slot first: whatever arrives while every slot is busy gathers in the queue
        // and goes out as the next batch.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let Some(first) = rx.recv().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            flush(store.as_ref(), batch).await;
            drop(slot);
        });
    }
}

async fn flush(store: &dyn Store, batch: Vec<(NewInbox, Reply)>) {
    let (rows, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    match write(store, &rows).await {
        Ok(inserted) => {
            for (reply, inserted) in replies.into_iter().zip(inserted) {
                let _ = reply.send(Ok(inserted));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, deliveries = rows.len(), "storing webhook deliveries failed");
            for reply in replies {
                let _ = reply.send(Err(e.to_string()));
            }
        }
    }
}

/// One multi-row statement: one commit for the whole batch. On PostgreSQL it runs on its own
/// (autocommit, one round trip); SQLite takes its single writer connection, so concurrent
/// writes queue in the pool instead of waiting on file locks.
async fn write(store: &dyn Store, rows: &[NewInbox]) -> Result<Vec<bool>, StoreError> {
    match store.backend() {
        Backend::Postgres => store.conn().await?.insert_inbox_batch(rows).await,
        Backend::Sqlite => {
            let mut tx = store.begin().await?;
            let inserted = tx.insert_inbox_batch(rows).await?;
            tx.commit().await?;
            Ok(inserted)
        }
    }
}
