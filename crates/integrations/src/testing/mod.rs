//! Test harnesses shared by this crate's tests and the server's: a recording HTTP stub for
//! upstreams (log stores, Prometheus error envelopes) and a real Prometheus (Debian's
//! `/usr/bin/prometheus`) scraping an exporter whose rates the test controls; a Slack stub replaying
//! Slack's recorded answers and a real SMTP server (aiosmtpd). Not used by
//! production code.

pub mod prometheus;
pub mod slack;
pub mod smtp;
pub mod upstream;
