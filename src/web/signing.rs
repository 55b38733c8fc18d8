//! HMAC-SHA256 signatures for values we hand to the browser and read back
//! (the CSRF token, flash messages). Each use names its purpose, so a
//! signature made for one can never pass for another.

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct Signer {
    key: Arc<[u8]>,
}

impl Signer {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.into() }
    }

    fn mac(&self, purpose: &str, value: &[u8]) -> HmacSha256 {
        // HMAC takes keys of any length; new_from_slice cannot fail for it.
        let mut mac = match HmacSha256::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(_) => unreachable_hmac(),
        };
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value);
        mac
    }

    /// The signature of `value` for `purpose`, base64url without padding.
    pub fn sign(&self, purpose: &str, value: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(purpose, value).finalize().into_bytes())
    }

    /// Constant-time check of a signature made by [`Signer::sign`].
    pub fn verify(&self, purpose: &str, value: &[u8], signature: &str) -> bool {
        let Ok(raw) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        self.mac(purpose, value).verify_slice(&raw).is_ok()
    }
}

#[cold]
fn unreachable_hmac() -> ! {
    unreachable!("HMAC accepts keys of every length")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_for_their_value_purpose_and_key() {
        let signer = Signer::new(b"0123456789abcdef0123456789abcdef");
        let sig = signer.sign("csrf", b"nonce");
        assert!(signer.verify("csrf", b"nonce", &sig));
        assert!(!signer.verify("flash", b"nonce", &sig));
        assert!(!signer.verify("csrf", b"other", &sig));
        assert!(!signer.verify("csrf", b"nonce", "garbage!"));
        let other = Signer::new(b"another key that is long enough!!");
        assert!(!other.verify("csrf", b"nonce", &sig));
    }
}
