//! HMAC-SHA256 signing and constant-time comparison, shared by the sources.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::VerifyError;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length")
}

/// `X-Hub-Signature-256` value for `body` as GitHub computes it: `sha256=<hex HMAC-SHA256>`.
///
/// ```
/// // GitHub's published test vector ("Validating webhook deliveries").
/// assert_eq!(
///     flightdeck_webhooks::sign_github(b"It's a Secret to Everybody", b"Hello, World!"),
///     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
/// );
/// ```
pub fn sign_github(secret: &[u8], body: &[u8]) -> String {
    let mut m = mac(secret);
    m.update(body);
    format!("sha256={}", hex::encode(m.finalize().into_bytes()))
}

/// `X-Flightdeck-Signature` value for the generic source: `t=<unix seconds>,v1=<hex
/// HMAC-SHA256(secret, "<t>.<raw body>")>`. Binding the timestamp into the MAC is what lets the
/// receiver reject replays older than [`crate::GENERIC_TOLERANCE_SECS`].
pub fn sign_generic(secret: &[u8], body: &[u8], t: i64) -> String {
    format!("t={t},v1={}", hex::encode(generic_mac(secret, body, t)))
}

pub(crate) fn generic_mac(secret: &[u8], body: &[u8], t: i64) -> Vec<u8> {
    let mut m = mac(secret);
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

/// Checks `expected_hex` against HMAC-SHA256(secret, parts…) in constant time.
pub(crate) fn verify_hmac_hex(
    secret: &[u8],
    parts: &[&[u8]],
    expected_hex: &str,
    header: &'static str,
) -> Result<(), VerifyError> {
    let expected = hex::decode(expected_hex).map_err(|_| VerifyError::MalformedSignature {
        header,
        reason: "signature is not hex",
    })?;
    let mut m = mac(secret);
    for part in parts {
        m.update(part);
    }
    m.verify_slice(&expected)
        .map_err(|_| VerifyError::BadSignature)
}

/// Compares a presented token with the configured secret in constant time. Both sides are hashed
/// first so that neither the secret's length nor a common prefix shows in the timing.
pub(crate) fn token_matches(presented: &[u8], secret: &[u8]) -> bool {
    let a = Sha256::digest(presented);
    let b = Sha256::digest(secret);
    a.ct_eq(&b).into()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
