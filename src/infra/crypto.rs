//! Personal data encrypted at rest: AES-256-GCM under a key id, so keys can
//! rotate. `DATA_KEYS` lists `id:key` pairs (key as hex or base64, 32 bytes),
//! comma-separated; the last one encrypts, all of them decrypt. Every
//! ciphertext is bound to its place (table, column, row id) through the AAD,
//! so a value copied to another row does not decrypt.
//!
//! Stored format: `0x01 | len(id) | id | nonce(12) | ciphertext+tag`.

use aes_gcm::{
    Aes256Gcm, Key, Nonce,
    aead::{Aead, KeyInit, Payload},
};
use anyhow::{Context, bail};
use rand::RngCore;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

#[derive(Clone)]
pub struct DataKeys {
    /// (id, cipher); the last encrypts.
    keys: Vec<(String, Aes256Gcm)>,
}

impl std::fmt::Debug for DataKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        write!(f, "DataKeys {ids:?}")
    }
}

impl DataKeys {
    /// Parses `id:key,id:key`.
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let mut keys = Vec::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, key) = entry
                .split_once(':')
                .context("DATA_KEYS entries look like id:key")?;
            if id.is_empty()
                || id.len() > 32
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                bail!("DATA_KEYS key id {id:?} must be 1-32 letters, digits, - or _");
            }
            let bytes = crate::config::decode_key("DATA_KEYS", key)?;
            if bytes.len() != 32 {
                bail!("DATA_KEYS key {id:?} must be exactly 32 bytes");
            }
            if keys.iter().any(|(known, _)| known == id) {
                bail!("DATA_KEYS repeats the key id {id:?}");
            }
            keys.push((
                id.to_string(),
                Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)),
            ));
        }
        if keys.is_empty() {
            bail!("DATA_KEYS holds no key");
        }
        Ok(Self { keys })
    }

    /// The id of the key new values are encrypted with.
    pub fn current_id(&self) -> &str {
        self.keys
            .last()
            .map(|(id, _)| id.as_str())
            .unwrap_or_default()
    }

    pub fn encrypt(&self, plaintext: &[u8], aad: &str) -> anyhow::Result<Vec<u8>> {
        let Some((id, cipher)) = self.keys.last() else {
            bail!("no data key");
        };
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = Vec::with_capacity(2 + id.len() + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.push(u8::try_from(id.len()).context("key id length")?);
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The key id a stored value was encrypted with.
    pub fn key_id_of(blob: &[u8]) -> Option<&str> {
        let (&version, rest) = blob.split_first()?;
        let (&len, rest) = rest.split_first()?;
        if version != VERSION {
            return None;
        }
        std::str::from_utf8(rest.get(..usize::from(len))?).ok()
    }

    pub fn decrypt(&self, blob: &[u8], aad: &str) -> anyhow::Result<Vec<u8>> {
        let id = Self::key_id_of(blob).context("not an encrypted value")?;
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(known, _)| known == id)
            .with_context(|| format!("data key {id:?} is not in DATA_KEYS"))?;
        let body = &blob[2 + id.len()..];
        if body.len() < NONCE_LEN {
            bail!("encrypted value is truncated");
        }
        let (nonce, sealed) = body.split_at(NONCE_LEN);
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("decryption failed (wrong key or tampered value)"))
    }

    pub fn encrypt_str(&self, plaintext: &str, aad: &str) -> anyhow::Result<Vec<u8>> {
        self.encrypt(plaintext.as_bytes(), aad)
    }

    pub fn decrypt_str(&self, blob: &[u8], aad: &str) -> anyhow::Result<String> {
        String::from_utf8(self.decrypt(blob, aad)?).context("decrypted value is not text")
    }

    /// Whether `blob` should be re-encrypted with the current key.
    pub fn is_stale(&self, blob: &[u8]) -> bool {
        Self::key_id_of(blob) != Some(self.current_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> String {
        hex::encode([byte; 32])
    }

    #[test]
    fn values_round_trip_and_are_bound_to_their_place() {
        let keys = DataKeys::parse(&format!("k1:{}", key(1))).expect("keys");
        let blob = keys
            .encrypt_str("010-1234-5678", "users.phone:a")
            .expect("encrypt");
        assert!(!blob.windows(4).any(|w| w == b"1234"));
        assert_eq!(
            keys.decrypt_str(&blob, "users.phone:a").expect("decrypt"),
            "010-1234-5678"
        );
        assert!(
            keys.decrypt_str(&blob, "users.phone:b").is_err(),
            "other row"
        );
        let mut tampered = blob.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(keys.decrypt(&tampered, "users.phone:a").is_err());
    }

    #[test]
    fn rotation_reads_old_keys_and_writes_the_newest() {
        let old = DataKeys::parse(&format!("k1:{}", key(1))).expect("keys");
        let blob = old.encrypt_str("secret", "t").expect("encrypt");
        let both = DataKeys::parse(&format!("k1:{},k2:{}", key(1), key(2))).expect("keys");
        assert!(both.is_stale(&blob));
        assert_eq!(
            both.decrypt_str(&blob, "t").expect("old key still reads"),
            "secret"
        );
        let fresh = both.encrypt_str("secret", "t").expect("encrypt");
        assert_eq!(DataKeys::key_id_of(&fresh), Some("k2"));
        let only_new = DataKeys::parse(&format!("k2:{}", key(2))).expect("keys");
        assert!(only_new.decrypt_str(&blob, "t").is_err());
        assert_eq!(
            only_new.decrypt_str(&fresh, "t").expect("decrypt"),
            "secret"
        );
    }

    #[test]
    fn bad_key_lists_are_refused() {
        assert!(DataKeys::parse("").is_err());
        assert!(DataKeys::parse("nocolon").is_err());
        assert!(DataKeys::parse(&format!("k1:{},k1:{}", key(1), key(2))).is_err());
        assert!(DataKeys::parse(&format!("bad id:{}", key(1))).is_err());
    }
}
