//! Video delivery through a CDN with CloudFront signed cookies (custom
//! policy, RSA with SHA-256). One policy covers one transcoding run's folder
//! (`videos/{id}/hls/{run}/*`), so the CDN caches each segment once for every
//! viewer and still refuses a request without cookies the app signed for that
//! folder. The app keeps the master playlist (it checks access and signs the
//! cookies there, and points the renditions at the CDN); everything below it
//! comes from the CDN.

use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey};
use time::OffsetDateTime;
use url::Url;

/// The cookie names CloudFront reads.
pub const POLICY_COOKIE: &str = "CloudFront-Policy";
pub const SIGNATURE_COOKIE: &str = "CloudFront-Signature";
pub const KEY_PAIR_COOKIE: &str = "CloudFront-Key-Pair-Id";
pub const HASH_COOKIE: &str = "CloudFront-Hash-Algorithm";

/// A CDN in front of the media storage (`MEDIA_CDN_BASE`, `MEDIA_CDN_KEY_ID`,
/// `MEDIA_CDN_KEY_FILE`).
#[derive(Clone)]
pub struct Cdn {
    /// Where the storage's keys are served: `{base}/{key}`.
    base: Url,
    /// The CloudFront public key's id.
    key_id: String,
    key: EncodingKey,
    /// `Domain` of the cookies (`MEDIA_CDN_COOKIE_DOMAIN`), so that a CDN on
    /// a sibling host (`cdn.example.com` beside `example.com`) receives them.
    pub cookie_domain: Option<String>,
    /// How long a signed policy lasts (`MEDIA_CDN_SECS`); each playback start
    /// signs a new one, and a refund stops new ones at once.
    pub ttl: Duration,
}

impl std::fmt::Debug for Cdn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cdn")
            .field("base", &self.base.as_str())
            .field("key_id", &self.key_id)
            .field("cookie_domain", &self.cookie_domain)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// The cookies that open one folder on the CDN until `expires`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCookies {
    /// The `Path` they are scoped to: the folder on the CDN's host, so two
    /// videos open in two tabs each keep their own.
    pub path: String,
    /// Unix seconds.
    pub expires: i64,
    /// `(name, value)` for each cookie.
    pub pairs: Vec<(&'static str, String)>,
}

impl Cdn {
    /// `pem` is the RSA private key (PKCS#1 or PKCS#8); it is tried once here,
    /// so a bad key stops the start-up instead of the first playback.
    pub fn new(
        base: Url,
        key_id: String,
        pem: &[u8],
        cookie_domain: Option<String>,
        ttl: Duration,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            matches!(base.scheme(), "https" | "http") && base.host().is_some(),
            "MEDIA_CDN_BASE must be an http(s) address"
        );
        anyhow::ensure!(
            !key_id.is_empty() && key_id.chars().all(|c| c.is_ascii_alphanumeric()),
            "MEDIA_CDN_KEY_ID must be the CloudFront public key's id"
        );
        let key =
            EncodingKey::from_rsa_pem(pem).context("MEDIA_CDN_KEY_FILE: an RSA private key")?;
        let mut base = base;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let cdn = Self {
            base,
            key_id,
            key,
            cookie_domain,
            ttl,
        };
        cdn.sign("videos/check/", OffsetDateTime::now_utc())
            .context("MEDIA_CDN_KEY_FILE cannot sign")?;
        Ok(cdn)
    }

    /// The CDN's origin, for the content security policy.
    pub fn origin(&self) -> String {
        self.base.origin().ascii_serialization()
    }

    /// Whether its cookies may travel only over https.
    pub fn secure(&self) -> bool {
        self.base.scheme() == "https"
    }

    /// The CDN's address of a storage key.
    pub fn url_of(&self, key: &str) -> String {
        format!("{}{}", self.base, key.trim_start_matches('/'))
    }

    /// Cookies for every file under `prefix` (a storage key ending in `/`),
    /// valid from `now` for [`Cdn::ttl`].
    pub fn sign(&self, prefix: &str, now: OffsetDateTime) -> anyhow::Result<SignedCookies> {
        let expires =
            now.unix_timestamp() + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let folder = self.url_of(prefix);
        let policy = policy_text(&format!("{folder}*"), expires);
        let signature = jsonwebtoken::crypto::sign(policy.as_bytes(), &self.key, Algorithm::RS256)
            .context("signing a CDN policy")?;
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .context("the signature's encoding")?;
        let path = Url::parse(&folder)
            .map(|u| u.path().to_owned())
            .context("the folder's address")?;
        Ok(SignedCookies {
            path,
            expires,
            pairs: vec![
                (POLICY_COOKIE, cloudfront_base64(policy.as_bytes())),
                (SIGNATURE_COOKIE, cloudfront_base64(&signature)),
                (KEY_PAIR_COOKIE, self.key_id.clone()),
                (HASH_COOKIE, "SHA256".to_owned()),
            ],
        })
    }
}

/// A custom policy for `resource` (may end in `*`) until `expires`, written
/// without white space as CloudFront's examples are.
pub fn policy_text(resource: &str, expires: i64) -> String {
    let resource = serde_json::Value::from(resource);
    format!(
        r#"{{"Statement":[{{"Resource":{resource},"Condition":{{"DateLessThan":{{"AWS:EpochTime":{expires}}}}}}}]}}"#
    )
}

/// Base64 with CloudFront's substitutions for characters that cookies and
/// query strings mangle: `+` -> `-`, `=` -> `_`, `/` -> `~`.
pub fn cloudfront_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .chars()
        .map(|c| match c {
            '+' => '-',
            '=' => '_',
            '/' => '~',
            c => c,
        })
        .collect()
}

/// The inverse of [`cloudfront_base64`]; `None` for anything else.
pub fn from_cloudfront_base64(text: &str) -> Option<Vec<u8>> {
    let standard: String = text
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '=',
            '~' => '/',
            c => c,
        })
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(standard)
        .ok()
}

/// A playlist with each address in it (plain lines and `URI="..."`
/// attributes) passed through `to`; comments and tags otherwise unchanged.
pub fn rewrite_playlist(text: &str, to: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            out.push_str(line);
        } else if !trimmed.starts_with('#') {
            out.push_str(&to(trimmed));
        } else if let Some(start) = line.find("URI=\"") {
            let from = start + 5;
            match line[from..].find('"') {
                Some(len) => {
                    out.push_str(&line[..from]);
                    out.push_str(&to(&line[from..from + len]));
                    out.push_str(&line[from + len..]);
                }
                None => out.push_str(line),
            }
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alphabet_is_cloudfronts_and_round_trips() {
        // Bytes whose standard encoding has all three characters it replaces.
        let bytes = [0xfb, 0xff, 0xbf, 0x01];
        let encoded = cloudfront_base64(&bytes);
        assert_eq!(encoded, "-~-~AQ__");
        assert_eq!(
            from_cloudfront_base64(&encoded).as_deref(),
            Some(&bytes[..])
        );
        assert_eq!(from_cloudfront_base64("not base64!"), None);
    }

    #[test]
    fn a_policy_is_compact_json_with_the_resource_and_end() {
        assert_eq!(
            policy_text("https://cdn.example.com/videos/a/hls/r/*", 1_700_000_000),
            r#"{"Statement":[{"Resource":"https://cdn.example.com/videos/a/hls/r/*","Condition":{"DateLessThan":{"AWS:EpochTime":1700000000}}}]}"#
        );
    }

    const PRIVATE: &[u8] = include_bytes!("../../../tests/fixtures/cdn/private.pem");
    const PUBLIC: &[u8] = include_bytes!("../../../tests/fixtures/cdn/public.pem");

    fn cdn(base: &str) -> Cdn {
        Cdn::new(
            base.parse().unwrap(),
            "K2JCJMDEHXQW5F".into(),
            PRIVATE,
            Some("example.com".into()),
            Duration::from_secs(600),
        )
        .unwrap()
    }

    #[test]
    fn cookies_open_one_folder_with_a_signature_over_the_policy() {
        let cdn = cdn("https://cdn.example.com/media");
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let signed = cdn.sign("videos/v1/hls/r1/", now).unwrap();
        assert_eq!(signed.path, "/media/videos/v1/hls/r1/");
        assert_eq!(signed.expires, 1_700_000_600);
        let value = |name: &str| {
            signed
                .pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        let policy = from_cloudfront_base64(&value(POLICY_COOKIE)).unwrap();
        assert_eq!(
            String::from_utf8(policy.clone()).unwrap(),
            policy_text(
                "https://cdn.example.com/media/videos/v1/hls/r1/*",
                1_700_000_600
            )
        );
        let signature = from_cloudfront_base64(&value(SIGNATURE_COOKIE)).unwrap();
        assert_eq!(signature.len(), 256, "RSA-2048");
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(PUBLIC).unwrap();
        let as_jwt = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&signature);
        assert!(jsonwebtoken::crypto::verify(&as_jwt, &policy, &key, Algorithm::RS256).unwrap());
        assert!(!jsonwebtoken::crypto::verify(&as_jwt, b"{}", &key, Algorithm::RS256).unwrap());
        assert_eq!(value(KEY_PAIR_COOKIE), "K2JCJMDEHXQW5F");
        assert_eq!(value(HASH_COOKIE), "SHA256");
        assert!(cdn.secure());
        assert_eq!(cdn.origin(), "https://cdn.example.com");
        assert_eq!(
            cdn.url_of("videos/v1/hls/r1/360p/index.m3u8"),
            "https://cdn.example.com/media/videos/v1/hls/r1/360p/index.m3u8"
        );
    }

    #[test]
    fn a_bad_key_or_base_stops_the_start() {
        let new = |base: &str, id: &str, pem: &[u8]| {
            Cdn::new(
                base.parse().unwrap(),
                id.into(),
                pem,
                None,
                Duration::from_secs(1),
            )
            .is_ok()
        };
        assert!(new("https://cdn.example.com", "K1", PRIVATE));
        assert!(!new("https://cdn.example.com", "K1", PUBLIC));
        assert!(!new("https://cdn.example.com", "K1", b"not a key"));
        assert!(!new("https://cdn.example.com", "", PRIVATE));
        assert!(!new("ftp://cdn.example.com", "K1", PRIVATE));
    }

    #[test]
    fn playlist_addresses_are_rewritten_and_tags_kept() {
        let master = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n360p/index.m3u8\n\n\
                      #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"s\",URI=\"subs/ko.m3u8\"\n";
        let out = rewrite_playlist(master, |u| format!("https://cdn/x/{u}"));
        assert_eq!(
            out,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nhttps://cdn/x/360p/index.m3u8\n\n\
             #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"s\",URI=\"https://cdn/x/subs/ko.m3u8\"\n"
        );
    }
}
