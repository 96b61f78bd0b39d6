//! Background work: applying webhook deliveries from the inbox.

pub mod inbox;
pub mod inbox_writer;
