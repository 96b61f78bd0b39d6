//! The documents users copy from (`GENERIC.md`, `ARGOCD.md`) agree with the parsers, so they do
//! not rot.

use flightdeck_webhooks::{
    InboundEvent, Source, parse_argocd, parse_generic, sign_generic, verify_generic,
};

use crate::support::{fixture, utc};

const GENERIC_MD: &str = include_str!("../../GENERIC.md");
const ARGOCD_MD: &str = include_str!("../../ARGOCD.md");
const NONE: [(&str, &str); 0] = [];

/// The first fenced block of `lang` in a Markdown document.
fn first_block<'a>(doc: &'a str, lang: &str) -> &'a str {
    let fence = format!("```{lang}\n");
    let start = doc.find(&fence).expect("block present") + fence.len();
    let len = doc[start..].find("```").expect("block closed");
    &doc[start..start + len]
}

#[test]
fn the_generic_documents_example_body_is_accepted_as_written() {
    let body = first_block(GENERIC_MD, "json").as_bytes();
    let now = utc(2026, 11, 25, 21, 41, 20);
    let header = sign_generic(b"s3cret", body, now.timestamp());
    assert_eq!(
        verify_generic(
            &[("X-Flightdeck-Signature", header.as_str())],
            body,
            b"s3cret",
            now
        ),
        Ok(())
    );
    let inbound = parse_generic(&NONE, body).unwrap();
    assert_eq!(inbound.source, Source::Generic);
    assert!(matches!(inbound.event, InboundEvent::Deploy(_)));
}

#[test]
fn the_generic_example_is_the_test_fixture() {
    let doc: serde_json::Value = serde_json::from_str(first_block(GENERIC_MD, "json")).unwrap();
    let fixture: serde_json::Value =
        serde_json::from_slice(&fixture("generic_succeeded.json")).unwrap();
    assert_eq!(doc, fixture);
}

#[test]
fn the_argocd_template_renders_every_field_of_the_fixture_the_parser_reads() {
    let template = first_block(ARGOCD_MD, "yaml");
    let fixture: serde_json::Value =
        serde_json::from_slice(&fixture("argocd_sync_succeeded.json")).unwrap();
    let mut keys: Vec<String> = fixture.as_object().unwrap().keys().cloned().collect();
    keys.extend(fixture["destination"].as_object().unwrap().keys().cloned());
    for key in keys {
        assert!(
            template.contains(&format!("\"{key}\":")),
            "ARGOCD.md's template does not render `{key}`"
        );
    }
    assert!(parse_argocd(&NONE, &fixture.to_string().into_bytes()).is_ok());
}
