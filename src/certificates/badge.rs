//! A certificate as an Open Badges 3.0 credential (a W3C Verifiable
//! Credential, JSON-LD), signed with a Data Integrity proof of the
//! `eddsa-jcs-2022` cryptosuite: the credential and the proof options are
//! canonicalised with JCS (RFC 8785), hashed with SHA-256, and the two hashes
//! signed with Ed25519. The issuer is a `did:key`, so anyone can verify it
//! offline from the credential alone.

use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::certificates::CertificateRow;

/// The multicodec prefix of an Ed25519 public key.
const ED25519_PUB: [u8; 2] = [0xed, 0x01];

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

    /// `did:key:z6Mk...`
    pub fn did(&self) -> String {
        did_of(&self.key.verifying_key())
    }
}

fn did_of(key: &VerifyingKey) -> String {
    let mut bytes = ED25519_PUB.to_vec();
    bytes.extend_from_slice(key.as_bytes());
    format!("did:key:z{}", bs58::encode(bytes).into_string())
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// What is signed: SHA-256 of the canonical proof options, then of the
/// canonical credential.
fn signing_input(credential: &Value, options: &Value) -> anyhow::Result<Vec<u8>> {
    let mut input = Sha256::digest(serde_jcs::to_vec(options)?).to_vec();
    input.extend_from_slice(&Sha256::digest(serde_jcs::to_vec(credential)?));
    Ok(input)
}

/// The signed credential for `cert`, issued from `origin`.
pub fn credential(
    signer: &BadgeSigner,
    cert: &CertificateRow,
    origin: &str,
) -> anyhow::Result<Value> {
    let did = signer.did();
    let page = format!("{origin}/certificates/{}", cert.code);
    let achievement = match (cert.course_id, cert.curriculum_id) {
        (Some(course), _) => format!("{origin}/courses/{course}"),
        (_, Some(_)) => format!("{origin}/"),
        _ => page.clone(),
    };
    let context = json!([
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
    ]);
    let unsigned = json!({
        "@context": context,
        "id": format!("{page}/badge"),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": { "id": did, "type": ["Profile"], "name": "Weaverse", "url": origin },
        "validFrom": rfc3339(cert.issued_at),
        "name": format!("{} 수료증", cert.title),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "name": cert.learner_name,
            "achievement": {
                "id": achievement,
                "type": ["Achievement"],
                "name": cert.title,
                "description": format!("Weaverse 웹 개발 교육의 「{}」 과정을 마쳤습니다.", cert.title),
                "criteria": { "narrative": "과정의 모든 토픽을 마치고 미션을 통과했습니다." },
                "creditsAvailable": cert.credits,
            },
        },
        "evidence": [{ "id": page, "type": ["Evidence"], "name": format!("확인 번호 {}", cert.code) }],
    });
    let options = json!({
        "@context": context,
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": rfc3339(cert.issued_at),
        "verificationMethod": format!("{did}#{}", did.trim_start_matches("did:key:")),
        "proofPurpose": "assertionMethod",
    });
    let signature = signer.key.sign(&signing_input(&unsigned, &options)?);
    let mut proof = options;
    if let Some(map) = proof.as_object_mut() {
        map.remove("@context");
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

/// Verifies a credential made by [`credential`] from itself alone: the key
/// comes from its `did:key`. `false` for any change to it.
pub fn verify(signed: &Value) -> bool {
    let check = || -> Option<bool> {
        let mut credential = signed.clone();
        let mut proof = credential.as_object_mut()?.remove("proof")?;
        let proof_map = proof.as_object_mut()?;
        let value = proof_map.remove("proofValue")?;
        let signature = bs58::decode(value.as_str()?.strip_prefix('z')?)
            .into_vec()
            .ok()?;
        let method = proof_map.get("verificationMethod")?.as_str()?;
        let key = bs58::decode(method.split('#').next()?.strip_prefix("did:key:z")?)
            .into_vec()
            .ok()?;
        let key: [u8; 32] = key.strip_prefix(&ED25519_PUB)?.try_into().ok()?;
        let key = VerifyingKey::from_bytes(&key).ok()?;
        proof_map.insert("@context".into(), credential.get("@context")?.clone());
        let input = signing_input(&credential, &proof).ok()?;
        let signature = ed25519_dalek::Signature::from_slice(&signature).ok()?;
        Some(key.verify(&input, &signature).is_ok())
    };
    check().unwrap_or(false)
}
