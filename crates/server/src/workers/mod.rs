//! Background work: applying webhook deliveries from the inbox, evaluating SLOs, escalating
//! unacknowledged critical alerts, sending notifications.

pub mod escalator;
pub mod inbox;
pub mod inbox_writer;
pub mod notifier;
pub mod slo_poller;
