//! Background work: applying webhook deliveries from the inbox, evaluating SLOs.

pub mod inbox;
pub mod inbox_writer;
pub mod slo_poller;
