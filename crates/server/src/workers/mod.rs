//! Background work: applying webhook deliveries from the inbox, evaluating SLOs, sending
//! notifications.

pub mod inbox;
pub mod inbox_writer;
pub mod notifier;
pub mod slo_poller;
