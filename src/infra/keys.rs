//! Secrets for development: generated once into `var/keys`, with a warning,
//! when the environment does not give them. Production requires them set
//! (see `Config::check_production`).

use std::{fs, io::Write, path::Path};

use anyhow::Context;
use rand::RngCore;

/// Returns the key stored at `var/keys/{name}.key`, creating it if missing.
pub fn load_or_generate(var_dir: &Path, name: &str, len: usize) -> anyhow::Result<Vec<u8>> {
    let dir = var_dir.join("keys");
    let path = dir.join(format!("{name}.key"));
    if path.exists() {
        let raw =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        return crate::config::decode_key(&path.display().to_string(), &raw);
    }
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut key = vec![0u8; len];
    rand::rng().fill_bytes(&mut key);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(hex::encode(&key).as_bytes())?;
    tracing::warn!(
        path = %path.display(),
        "generated a development secret; set {} in production",
        name.to_ascii_uppercase()
    );
    Ok(key)
}

/// `DATA_KEYS` for development: one generated key, id `dev1`.
pub fn dev_data_keys(var_dir: &Path) -> anyhow::Result<String> {
    let key = load_or_generate(var_dir, "data_keys", 32)?;
    Ok(format!("dev1:{}", hex::encode(key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_reused_on_the_next_start() {
        let dir = std::env::temp_dir().join(format!("weaverse-keys-{}", uuid::Uuid::new_v4()));
        let first = load_or_generate(&dir, "session_key", 64).expect("generate");
        let second = load_or_generate(&dir, "session_key", 64).expect("reload");
        assert_eq!(first.len(), 64);
        assert_eq!(first, second);
        fs::remove_dir_all(dir).ok();
    }
}
