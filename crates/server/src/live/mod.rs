//! The live feed: an in-process [`Hub`] that fans committed events out to WebSocket clients,
//! with Redis carrying them between replicas and a database poll as the safety net.

mod hub;

pub use hub::Hub;
