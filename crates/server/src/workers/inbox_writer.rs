//! Group commit for webhook deliveries. Concurrent requests hand their delivery to one writer,
//! which stores whatever has queued up in a single transaction: one commit (one fsync) for many
//! deliveries instead of one each. Every request still waits for the commit that holds its
//! delivery before it answers 202, so nothing is acknowledged that is not durable.

use std::sync::Arc;

use flightdeck_store::{Backend, NewInbox, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

/// Most deliveries per transaction.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<bool, String>>;

pub struct InboxWriter {
    queue: mpsc::Sender<(NewInbox, Reply)>,
}

impl InboxWriter {
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (queue, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(store, rx));
        InboxWriter { queue }
    }

    /// Stores a delivery durably; false when (source, delivery id) was already stored.
    pub async fn insert(&self, new: NewInbox) -> Result<bool, InboxWriteError> {
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

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<(NewInbox, Reply)>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        // Whatever arrived while the previous commit was under way joins this one.
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let (rows, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        match write(store.as_ref(), &rows).await {
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
