//! Random tokens, hashes of tokens, and HMACs under the page's secret key.
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 32 random bytes, URL-safe base64: for cookies, links and API tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Tokens are stored only as this digest, so a leaked database opens nothing.
pub fn sha256_hex(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A keyed MAC of `message`, URL-safe base64.
pub fn hmac(key: &[u8], message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hashes_stable() {
        assert_ne!(random_token(), random_token());
        assert_eq!(sha256_hex("abc").len(), 64);
        assert_eq!(sha256_hex("abc"), sha256_hex("abc"));
        assert!(constant_time_eq(&hmac(b"k", "m"), &hmac(b"k", "m")));
        assert!(!constant_time_eq(&hmac(b"k", "m"), &hmac(b"k2", "m")));
    }
}

/// The password of a URL such as `postgres://user:pass@host/db`, found by
/// reading the text rather than parsing it: a URL that fails to parse (a
/// password with an unescaped `@` or `/`, a bad port) is exactly the one an
/// error message prints.
fn url_password(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let userinfo = &rest[..rest.rfind('@')?];
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

/// `url` with its password replaced by `***`, whether or not it parses.
pub fn redact_url(url: &str) -> String {
    match url_password(url) {
        Some(p) => url.replacen(&format!(":{p}@"), ":***@", 1),
        None => url.to_owned(),
    }
}

/// `text` (say, an error that quotes `url`) with `url`'s password hidden
/// wherever it appears.
pub fn scrub(text: &str, url: &str) -> String {
    match url_password(url) {
        Some(p) => text.replace(p, "***"),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod redaction_tests {
    use super::*;

    #[test]
    fn hides_passwords_of_urls_that_do_not_parse() {
        assert_eq!(
            redact_url("postgres://u:s3cret@127.0.0.1:x/db"),
            "postgres://u:***@127.0.0.1:x/db"
        );
        assert_eq!(
            redact_url("smtps://u:p@ss@host:465"),
            "smtps://u:***@host:465"
        );
        assert_eq!(redact_url("postgres://u:a/b@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            redact_url("sqlite://statuspost.db?mode=rwc"),
            "sqlite://statuspost.db?mode=rwc"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            scrub(
                "bad 'postgres://u:s3cret@h:x/db' (s3cret)",
                "postgres://u:s3cret@h:x/db"
            ),
            "bad 'postgres://u:***@h:x/db' (***)"
        );
    }
}
