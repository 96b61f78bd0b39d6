//! Background work: applying webhook deliveries and alert notifications from the inbox, evaluating SLOs, escalating
//! unacknowledged critical alerts, sending notifications, and moving statuses that change with
//! time alone (maintenance windows, stale SLOs).

pub mod alert_inbox;
pub mod escalator;
pub mod inbox;
pub mod inbox_writer;
pub mod lease;
pub mod notifier;
pub mod slo_poller;
pub mod status_clock;
