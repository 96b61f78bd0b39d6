//! Short-lived access tokens. HS256 only: the algorithm is pinned on both sides, so `alg: none`
//! or an RS/ES token signed with something else never validates.

use chrono::{DateTime, Utc};
use flightdeck_model::{Id, Role};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "flightdeck";
pub const AUDIENCE: &str = "flightdeck-api";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Id,
    /// The session this token belongs to; revoking the session kills the token.
    pub sid: Id,
    /// Informational only: the server reads the user's current role from the database.
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub ttl_secs: u64,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl_secs: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_secs,
        }
    }

    pub fn issue(&self, user: Id, session: Id, role: Role, now: DateTime<Utc>) -> String {
        let iat = now.timestamp();
        let claims = Claims {
            sub: user,
            sid: session,
            role,
            iat,
            exp: iat + self.ttl_secs as i64,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 encoding with a valid key cannot fail")
    }

    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};

    fn keys() -> JwtKeys {
        JwtKeys::new(b"0123456789abcdef0123456789abcdef", 900)
    }

    fn forge(header: &str, claims: &serde_json::Value, sig: &str) -> String {
        format!(
            "{}.{}.{sig}",
            B64.encode(header),
            B64.encode(claims.to_string())
        )
    }

    fn claims_json(exp_offset: i64) -> serde_json::Value {
        let now = Utc::now().timestamp();
        serde_json::json!({
            "sub": Id::now_v7(), "sid": Id::now_v7(), "role": "admin",
            "iat": now, "exp": now + exp_offset, "iss": ISSUER, "aud": AUDIENCE
        })
    }

    #[test]
    fn a_token_issued_now_verifies_and_carries_its_session() {
        let k = keys();
        let (user, session) = (Id::now_v7(), Id::now_v7());
        let claims = k
            .verify(&k.issue(user, session, Role::Deployer, Utc::now()))
            .unwrap();
        assert_eq!(
            (claims.sub, claims.sid, claims.role),
            (user, session, Role::Deployer)
        );
    }

    #[test]
    fn expired_tokens_are_rejected() {
        let k = keys();
        let old = Utc::now() - chrono::Duration::hours(1);
        assert!(
            k.verify(&k.issue(Id::now_v7(), Id::now_v7(), Role::Admin, old))
                .is_err()
        );
    }

    #[test]
    fn alg_none_and_other_algorithms_are_rejected() {
        let k = keys();
        let none = forge(r#"{"alg":"none","typ":"JWT"}"#, &claims_json(600), "");
        assert!(k.verify(&none).is_err());
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims_json(600),
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .unwrap();
        assert!(k.verify(&hs512).is_err(), "same key, wrong algorithm");
    }

    #[test]
    fn tokens_signed_with_another_key_or_for_another_audience_are_rejected() {
        let other = JwtKeys::new(b"another-secret-another-secret-xx", 900);
        let token = other.issue(Id::now_v7(), Id::now_v7(), Role::Admin, Utc::now());
        assert!(keys().verify(&token).is_err());

        let mut claims = claims_json(600);
        claims["aud"] = "someone-else".into();
        let wrong_aud = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .unwrap();
        assert!(keys().verify(&wrong_aud).is_err());
    }
}
