//! Usernames, passwords and API token secrets.

use flightdeck_model::{FieldError, Role};
use sha2::{Digest, Sha256};

pub const MIN_PASSWORD_LEN: usize = 12;
pub const MAX_PASSWORD_LEN: usize = 1024;
pub const MAX_USERNAME_LEN: usize = 64;
pub const MAX_TOKEN_NAME_LEN: usize = 100;
pub const MAX_TOKEN_DAYS: u32 = 3650;

/// API token secrets start with this, so secret scanners and people recognise them.
pub const API_TOKEN_PREFIX: &str = "fdt_";
/// Refresh tokens start with this; they are never accepted as bearer tokens.
pub const REFRESH_TOKEN_PREFIX: &str = "fdr_";
/// How many characters of a secret are kept in clear to tell tokens apart in a list.
pub const VISIBLE_PREFIX_LEN: usize = 10;

pub fn validate_username(username: &str) -> Result<(), FieldError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
    if username.is_empty() || username.len() > MAX_USERNAME_LEN || !username.chars().all(ok_char) {
        return Err(field(
            "username",
            "must be 1 to 64 characters of letters, digits, '.', '_', '-' or '@'",
        ));
    }
    Ok(())
}

pub fn validate_password(password: &str) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_LEN {
        return Err(field("password", "must be at least 12 characters"));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(field("password", "must be at most 1024 bytes"));
    }
    Ok(())
}

pub fn validate_token_name(name: &str) -> Result<(), FieldError> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.len() > MAX_TOKEN_NAME_LEN {
        return Err(field("name", "must be 1 to 100 characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(field("name", "must not contain control characters"));
    }
    Ok(())
}

/// The role a new API token gets: the requested one, which may not exceed the creator's.
pub fn token_role(creator: Role, requested: Option<Role>) -> Result<Role, FieldError> {
    match requested {
        None => Ok(creator),
        Some(role) if creator.allows(role) => Ok(role),
        Some(role) => Err(field(
            "role",
            &format!("a {creator} cannot create a token with the {role} role"),
        )),
    }
}

pub fn validate_expiry_days(days: Option<u32>) -> Result<(), FieldError> {
    match days {
        Some(d) if d == 0 || d > MAX_TOKEN_DAYS => {
            Err(field("expires_in_days", "must be between 1 and 3650"))
        }
        _ => Ok(()),
    }
}

/// Builds a secret from a prefix and random bytes (the caller brings the randomness, so this
/// stays deterministic under test).
pub fn format_secret(prefix: &str, random: &[u8]) -> String {
    format!("{prefix}{}", hex::encode(random))
}

/// Secrets are stored only as this digest. They carry 256 random bits, so a fast hash is enough;
/// passwords, which people choose, get argon2id instead.
pub fn secret_digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The part of a secret kept in clear for display.
pub fn visible_prefix(secret: &str) -> String {
    secret.chars().take(VISIBLE_PREFIX_LEN).collect()
}

fn field(name: &str, message: &str) -> FieldError {
    FieldError {
        field: name.to_owned(),
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_accept_emails_and_reject_spaces_and_empty() {
        assert!(validate_username("alice").is_ok());
        assert!(validate_username("ops.bot@example.com").is_ok());
        assert!(validate_username("").is_err());
        assert!(validate_username("a b").is_err());
        assert!(validate_username(&"x".repeat(65)).is_err());
    }

    #[test]
    fn passwords_need_twelve_characters_counted_as_characters_not_bytes() {
        assert!(validate_password("short").is_err());
        assert!(validate_password("twelve-chars").is_ok());
        // 11 two-byte characters are 22 bytes but still too short.
        assert!(validate_password(&"é".repeat(11)).is_err());
    }

    #[test]
    fn a_token_cannot_outrank_its_creator() {
        assert_eq!(token_role(Role::Deployer, None), Ok(Role::Deployer));
        assert_eq!(
            token_role(Role::Deployer, Some(Role::Viewer)),
            Ok(Role::Viewer)
        );
        assert!(token_role(Role::Deployer, Some(Role::Admin)).is_err());
    }

    #[test]
    fn secrets_are_prefixed_and_digested_deterministically() {
        let secret = format_secret(API_TOKEN_PREFIX, &[0xab; 32]);
        assert!(secret.starts_with("fdt_abab"));
        assert_eq!(secret.len(), 4 + 64);
        assert_eq!(secret_digest(&secret), secret_digest(&secret));
        assert_ne!(secret_digest(&secret), secret_digest("fdt_other"));
        assert_eq!(visible_prefix(&secret), "fdt_ababab");
    }

    #[test]
    fn expiry_must_be_within_ten_years() {
        assert!(validate_expiry_days(None).is_ok());
        assert!(validate_expiry_days(Some(30)).is_ok());
        assert!(validate_expiry_days(Some(0)).is_err());
        assert!(validate_expiry_days(Some(3651)).is_err());
    }
}
