//! Background work: applying webhook deliveries and alert notifications from the inbox, evaluating SLOs, escalating
//! unacknowledged critical alerts, sending notifications, and moving statuses that change with
//! time alone (maintenance windows, stale SLOs).

pub mod alert_inbox;
pub mod alert_writer;
pub mod escalator;
pub mod inbox;
pub mod inbox_writer;
pub mod lease;
pub mod notifier;
pub mod slo_poller;
pub mod status_clock;

/// Group commit's batching: `first`, and whatever else has queued up behind it (at most `max`
/// in all) while the previous commit was under way.
pub(crate) fn with_queued<T>(
    first: T,
    rx: &mut tokio::sync::mpsc::Receiver<T>,
    max: usize,
) -> Vec<T> {
    let mut batch = vec![first];
    while batch.len() < max {
        match rx.try_recv() {
            Ok(item) => batch.push(item),
            Err(_) => break,
        }
    }
    batch
}
