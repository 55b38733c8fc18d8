//! A certificate as an Open Badges 3.0 credential (a W3C Verifiable
//! Credential 2.0, JSON-LD), signed with a Data Integrity proof of the
//! `eddsa-jcs-2022` cryptosuite: the proof options (with the document's
//! `@context`, kept in the served proof as the cryptosuite says) and the
//! credential are canonicalised with JCS (RFC 8785), hashed with SHA-256,
//! and the two hashes signed with Ed25519.
//!
//! The issuer is Weaverse's own DID, `did:web` of the public origin, whose
//! document (`/.well-known/did.json`) publishes the key as a `Multikey`.
//! Verification is pinned: the proof must name that key and the issuer must
//! be that DID, so a badge re-signed with any other key is refused. Each
//! badge points at a Bitstring Status List the app serves, so a badge saved
//! before its certificate was revoked still shows as revoked.

use std::io::Write;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::certificates::CertificateRow;

/// The multicodec prefix of an Ed25519 public key.
const ED25519_PUB: [u8; 2] = [0xed, 0x01];
/// Entries in one status list: 16 KB of bits, the spec's minimum for
/// group privacy.
pub const STATUS_LIST_SIZE: i64 = 131_072;
const VC_V2: &str = "https://www.w3.org/ns/credentials/v2";
const OB_V3: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";

#[derive(Clone)]
pub struct BadgeSigner {
    key: SigningKey,
}

impl BadgeSigner {
    pub fn from_seed(seed: &[u8]) -> anyhow::Result<Self> {
        let seed: [u8; 32] = seed.try_into().map_err(|_| {
            anyhow::anyhow!("the badge signing key must be 32 bytes (64 hex digits)")
        })?;
        Ok(Self {
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// The public key as a multibase `Multikey` value (`z6Mk...`).
    pub fn public_key_multibase(&self) -> String {
        multibase_of(&self.key.verifying_key())
    }

    fn sign(
        &self,
        unsigned: Value,
        origin: &str,
        created: OffsetDateTime,
    ) -> anyhow::Result<Value> {
        let options = json!({
            "@context": unsigned.get("@context").cloned().unwrap_or(Value::Null),
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "created": rfc3339(created),
            "verificationMethod": verification_method(origin, self),
            "proofPurpose": "assertionMethod",
        });
        let signature = self.key.sign(&signing_input(&unsigned, &options)?);
        let mut proof = options;
        if let Some(map) = proof.as_object_mut() {
            map.insert(
                "proofValue".into(),
                Value::String(format!(
                    "z{}",
                    bs58::encode(signature.to_bytes()).into_string()
                )),
            );
        }
        let mut signed = unsigned;
        if let Some(map) = signed.as_object_mut() {
            map.insert("proof".into(), proof);
        }
        Ok(signed)
    }
}

fn multibase_of(key: &VerifyingKey) -> String {
    let mut bytes = ED25519_PUB.to_vec();
    bytes.extend_from_slice(key.as_bytes());
    format!("z{}", bs58::encode(bytes).into_string())
}

/// Weaverse's DID: `did:web` of the public origin (a port is written `%3A`).
pub fn did(origin: &str) -> String {
    let host = origin
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    format!("did:web:{}", host.replace(':', "%3A"))
}

/// The key's id in the DID document: the DID and the key's fingerprint.
fn verification_method(origin: &str, signer: &BadgeSigner) -> String {
    format!("{}#{}", did(origin), signer.public_key_multibase())
}

/// The DID document served at `/.well-known/did.json`.
pub fn did_document(signer: &BadgeSigner, origin: &str) -> Value {
    let did = did(origin);
    let method = verification_method(origin, signer);
    json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [{
            "id": method,
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": signer.public_key_multibase(),
        }],
        "assertionMethod": [method],
    })
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// What is signed: SHA-256 of the canonical proof options, then of the
/// canonical credential.
fn signing_input(credential: &Value, options: &Value) -> anyhow::Result<Vec<u8>> {
    let mut input = Sha256::digest(serde_jcs::to_vec(options)?).to_vec();
    input.extend_from_slice(&Sha256::digest(serde_jcs::to_vec(credential)?));
    Ok(input)
}

/// The status list a certificate's entry is in, and its place there.
pub fn status_place(status_index: i64) -> (i64, i64) {
    (
        status_index.div_euclid(STATUS_LIST_SIZE),
        status_index.rem_euclid(STATUS_LIST_SIZE),
    )
}

fn status_list_url(origin: &str, list: i64) -> String {
    format!("{origin}/certificates/status/{list}")
}

/// The learner as OB 3.0 asks (an `identifier`, since learners have no
/// DID): their email hashed with SHA-256 and a salt, so whoever knows the
/// email can confirm it and nobody can read it.
fn identity(email: &str, salt: &str) -> Value {
    let hash = Sha256::digest(format!("{}{salt}", email.trim().to_lowercase()));
    json!([{
        "type": "IdentityObject",
        "identityType": "emailAddress",
        "hashed": true,
        "identityHash": format!("sha256${}", hex::encode(hash)),
        "salt": salt,
    }])
}

/// The signed credential for `cert` (learner's `email`), issued from
/// `origin`.
pub fn credential(
    signer: &BadgeSigner,
    cert: &CertificateRow,
    email: &str,
    origin: &str,
) -> anyhow::Result<Value> {
    let page = format!("{origin}/certificates/{}", cert.code);
    let achievement = match (cert.course_id, cert.curriculum_id) {
        (Some(course), _) => format!("{origin}/courses/{course}"),
        (_, Some(_)) => format!("{origin}/"),
        _ => page.clone(),
    };
    let words = super::views::badge_words(cert);
    let (list, place) = status_place(cert.status_index);
    let list_url = status_list_url(origin, list);
    let unsigned = json!({
        "@context": [VC_V2, OB_V3],
        "id": format!("{page}/badge"),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": { "id": did(origin), "type": ["Profile"], "name": "Weaverse", "url": origin },
        "validFrom": rfc3339(cert.issued_at),
        "name": words.name,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": identity(email, &cert.code),
            "name": cert.learner_name,
            "achievement": {
                "id": achievement,
                "type": ["Achievement"],
                "name": cert.title,
                "description": words.description,
                "criteria": { "narrative": words.criteria },
                "creditsAvailable": cert.credits,
            },
        },
        "credentialStatus": {
            "id": format!("{list_url}#{place}"),
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": place.to_string(),
            "statusListCredential": list_url,
        },
        "evidence": [{ "id": page, "type": ["Evidence"], "name": words.evidence }],
    });
    signer.sign(unsigned, origin, cert.issued_at)
}

/// The signed status list `list`, where the places in `revoked` are set
/// (bit 0 is the first byte's highest bit), gzipped and base64url-encoded
/// as `encodedList` with the multibase prefix `u`.
pub fn status_list(
    signer: &BadgeSigner,
    origin: &str,
    list: i64,
    revoked: &[i64],
    now: OffsetDateTime,
) -> anyhow::Result<Value> {
    let mut bits = vec![0u8; usize::try_from(STATUS_LIST_SIZE / 8)?];
    for &place in revoked {
        let place = usize::try_from(place)?;
        if let Some(byte) = bits.get_mut(place / 8) {
            *byte |= 0x80 >> (place % 8);
        }
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bits)?;
    let encoded = format!("u{}", URL_SAFE_NO_PAD.encode(gz.finish()?));
    let url = status_list_url(origin, list);
    let unsigned = json!({
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did(origin),
        "validFrom": rfc3339(now),
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded,
        },
    });
    signer.sign(unsigned, origin, now)
}

/// What checking a badge someone hands over found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checked {
    /// Signed by Weaverse's key, unchanged: the certificate's code and its
    /// place in the status lists.
    Signed {
        code: String,
        status: Option<(i64, i64)>,
    },
    /// Not JSON, or not shaped like an Open Badges credential with a proof.
    Malformed,
    /// Issued in another's name, or signed with a key that is not ours.
    NotOurs,
    /// Our key and issuer, but the signature does not match the content.
    Altered,
}

/// Checks a credential's proof against Weaverse's own key and DID only
/// (never a key the badge itself names).
pub fn check(signed: &Value, signer: &BadgeSigner, origin: &str) -> Checked {
    let Some(mut credential) = signed.as_object().cloned() else {
        return Checked::Malformed;
    };
    let Some(Value::Object(mut proof)) = credential.remove("proof") else {
        return Checked::Malformed;
    };
    let issuer = match credential.get("issuer") {
        Some(Value::String(id)) => Some(id.as_str()),
        Some(Value::Object(map)) => map.get("id").and_then(Value::as_str),
        _ => None,
    };
    let Some(issuer) = issuer else {
        return Checked::Malformed;
    };
    let Some(Value::String(value)) = proof.remove("proofValue") else {
        return Checked::Malformed;
    };
    if proof.get("type").and_then(Value::as_str) != Some("DataIntegrityProof")
        || proof.get("cryptosuite").and_then(Value::as_str) != Some("eddsa-jcs-2022")
        || proof.get("proofPurpose").and_then(Value::as_str) != Some("assertionMethod")
    {
        return Checked::Malformed;
    }
    if issuer != did(origin)
        || proof.get("verificationMethod").and_then(Value::as_str)
            != Some(verification_method(origin, signer).as_str())
    {
        return Checked::NotOurs;
    }
    // The proof's @context must be where the document's begins.
    if let Some(context) = proof.get("@context") {
        let starts = match (context, credential.get("@context")) {
            (Value::Array(p), Some(Value::Array(d))) => d.starts_with(p),
            (p, Some(d)) => p == d,
            _ => false,
        };
        if !starts {
            return Checked::Altered;
        }
    }
    let verified = (|| {
        let signature = bs58::decode(value.strip_prefix('z')?).into_vec().ok()?;
        let signature = ed25519_dalek::Signature::from_slice(&signature).ok()?;
        let input =
            signing_input(&Value::Object(credential.clone()), &Value::Object(proof)).ok()?;
        Some(
            signer
                .key
                .verifying_key()
                .verify(&input, &signature)
                .is_ok(),
        )
    })()
    .unwrap_or(false);
    if !verified {
        return Checked::Altered;
    }
    let code = credential
        .get("id")
        .and_then(Value::as_str)
        .and_then(|id| id.strip_prefix(&format!("{origin}/certificates/")))
        .and_then(|rest| rest.strip_suffix("/badge"))
        .unwrap_or_default()
        .to_owned();
    let status = credential.get("credentialStatus").and_then(|s| {
        let list_url = s.get("statusListCredential")?.as_str()?;
        let list = list_url
            .strip_prefix(&format!("{origin}/certificates/status/"))?
            .parse()
            .ok()?;
        let place = s.get("statusListIndex")?.as_str()?.parse().ok()?;
        Some((list, place))
    });
    Checked::Signed { code, status }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(seed: u8) -> BadgeSigner {
        BadgeSigner::from_seed(&[seed; 32]).unwrap()
    }

    #[test]
    fn the_did_is_the_origin_s_host_with_its_port_escaped() {
        assert_eq!(did("https://weaverse.kr"), "did:web:weaverse.kr");
        assert_eq!(did("http://127.0.0.1:8000"), "did:web:127.0.0.1%3A8000");
        let doc = did_document(&signer(1), "https://weaverse.kr");
        assert_eq!(
            doc["assertionMethod"][0],
            doc["verificationMethod"][0]["id"]
        );
        assert!(
            doc["verificationMethod"][0]["publicKeyMultibase"]
                .as_str()
                .unwrap()
                .starts_with("z6Mk")
        );
    }

    #[test]
    fn a_status_list_sets_the_revoked_bits_from_the_left() {
        let list = status_list(
            &signer(1),
            "https://weaverse.kr",
            0,
            &[0, 9],
            OffsetDateTime::now_utc(),
        )
        .unwrap();
        let encoded = list["credentialSubject"]["encodedList"].as_str().unwrap();
        let gz = URL_SAFE_NO_PAD
            .decode(encoded.strip_prefix('u').unwrap())
            .unwrap();
        let mut bits = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut bits).unwrap();
        assert_eq!(bits.len(), 16_384);
        assert_eq!(&bits[..2], &[0x80, 0x40]);
        assert_eq!(
            check(&list, &signer(1), "https://weaverse.kr"),
            Checked::Signed {
                code: String::new(),
                status: None
            }
        );
        assert_eq!(status_place(STATUS_LIST_SIZE + 5), (1, 5));
    }

    #[test]
    fn only_our_key_and_our_did_verify() {
        let unsigned = json!({ "@context": [VC_V2], "id": "https://weaverse.kr/certificates/WV-X/badge", "issuer": { "id": did("https://weaverse.kr") } });
        let now = OffsetDateTime::now_utc();
        let ours = signer(1)
            .sign(unsigned.clone(), "https://weaverse.kr", now)
            .unwrap();
        assert!(matches!(
            check(&ours, &signer(1), "https://weaverse.kr"),
            Checked::Signed { .. }
        ));
        // Signed by another key that names itself: not ours.
        let theirs = signer(2)
            .sign(unsigned, "https://weaverse.kr", now)
            .unwrap();
        assert_eq!(
            check(&theirs, &signer(1), "https://weaverse.kr"),
            Checked::NotOurs
        );
        let mut changed = ours.clone();
        changed["id"] = json!("https://weaverse.kr/certificates/WV-Y/badge");
        assert_eq!(
            check(&changed, &signer(1), "https://weaverse.kr"),
            Checked::Altered
        );
        assert_eq!(
            check(&json!([1]), &signer(1), "https://weaverse.kr"),
            Checked::Malformed
        );
        // The served proof keeps its @context (eddsa-jcs-2022).
        assert_eq!(ours["proof"]["@context"], json!([VC_V2]));
    }
}
