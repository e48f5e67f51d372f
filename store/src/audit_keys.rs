//! The audit keys, kept outside the database: the chain key (HMAC-SHA256 of every entry, so write access to the
//! database alone cannot recompute the chain) and the checkpoint key (Ed25519, signing the chain's head now and then,
//! so even someone holding the database and the chain key cannot rewrite what came before a checkpoint unnoticed).
//!
//! Both live in one small text file, created with mode 0600 at first start (in the data folder unless given), and
//! every replica must be given the same file.

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The line that starts a key file, and the names of its two keys.
const HEADER: &str =
    "# SRA Sessions audit keys: keep this file secret and backed up; every replica needs this same file.";
const CHAIN: &str = "chain-key";
const CHECKPOINT: &str = "checkpoint-key";

/// The two audit keys.
#[derive(Clone)]
pub struct AuditKeys {
    chain: [u8; 32],
    checkpoint: SigningKey,
    origin: KeyOrigin,
}

/// Reading or creating the key file failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read the audit key file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot create the audit key file {path}: {source}")]
    Create { path: String, source: std::io::Error },
    #[error("the audit key file {path} is not valid: {reason}")]
    Invalid { path: String, reason: String },
}

/// Whether the key file was there or was made now (a chain may be keyed for the first time only by keys made now; see
/// `Store::connect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    Existing,
    Created,
}

impl fmt::Debug for AuditKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the keys themselves.
        f.debug_struct("AuditKeys").field("id", &self.id()).finish()
    }
}

impl AuditKeys {
    /// Fresh random keys.
    pub fn generate() -> AuditKeys {
        AuditKeys {
            chain: rand::random(),
            checkpoint: SigningKey::from_bytes(&rand::random()),
            origin: KeyOrigin::Created,
        }
    }

    /// Reads the key file at `path`, or creates it (mode 0600, its folder too) if there is none.
    pub fn load_or_create(path: &Path) -> Result<AuditKeys, KeyFileError> {
        match std::fs::read_to_string(path) {
            Ok(text) => AuditKeys::parse(&text).map_err(|reason| invalid(path, reason)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let keys = AuditKeys::generate();
                keys.create(path)
                    .map_err(|source| KeyFileError::Create { path: path.display().to_string(), source })?;
                Ok(keys)
            }
            Err(source) => Err(KeyFileError::Read { path: path.display().to_string(), source }),
        }
    }

    /// Reads the key file at `path`; it must exist.
    pub fn load(path: &Path) -> Result<AuditKeys, KeyFileError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| KeyFileError::Read { path: path.display().to_string(), source })?;
        AuditKeys::parse(&text).map_err(|reason| invalid(path, reason))
    }

    fn create(&self, path: &Path) -> std::io::Result<()> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path)?;
        writeln!(file, "{HEADER}")?;
        writeln!(file, "{CHAIN} = {}", hex(&self.chain))?;
        writeln!(file, "{CHECKPOINT} = {}", hex(&self.checkpoint.to_bytes()))?;
        file.sync_all()
    }

    fn parse(text: &str) -> Result<AuditKeys, String> {
        let mut chain = None;
        let mut checkpoint = None;
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let (name, value) = line.split_once('=').ok_or_else(|| format!("{line:?} is not `name = value`"))?;
            let bytes = unhex32(value.trim()).ok_or_else(|| format!("{} is not 64 hexadecimal digits", name.trim()))?;
            match name.trim() {
                CHAIN => chain = Some(bytes),
                CHECKPOINT => checkpoint = Some(bytes),
                other => return Err(format!("unknown key {other:?} (expected {CHAIN} and {CHECKPOINT})")),
            }
        }
        match (chain, checkpoint) {
            (Some(chain), Some(checkpoint)) => {
                Ok(AuditKeys { chain, checkpoint: SigningKey::from_bytes(&checkpoint), origin: KeyOrigin::Existing })
            }
            _ => Err(format!("it needs both {CHAIN} and {CHECKPOINT}")),
        }
    }

    /// Whether these keys were read from a file or made now.
    pub fn origin(&self) -> KeyOrigin {
        self.origin
    }

    /// The same keys, as read from a file (what a later start of the same server has).
    pub fn existing(&self) -> AuditKeys {
        AuditKeys { origin: KeyOrigin::Existing, ..self.clone() }
    }

    /// A check value for the chain key, stored in the database: it tells a wrong key file from a tampered chain
    /// without revealing the key.
    pub fn id(&self) -> String {
        hex(&self.mac().chain_update(b"sra-audit-chain-key-id").finalize().into_bytes())
    }

    /// The chain key's MAC, ready for an entry's fields.
    pub(crate) fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.chain).expect("HMAC takes keys of any length")
    }

    /// The public half of the checkpoint key, which is all a verifier of checkpoints needs.
    pub fn checkpoint_public_key(&self) -> String {
        hex(self.checkpoint.verifying_key().as_bytes())
    }

    pub(crate) fn sign(&self, message: &[u8]) -> String {
        hex(&self.checkpoint.sign(message).to_bytes())
    }

    pub(crate) fn verify_signature(&self, message: &[u8], signature: &str) -> bool {
        let Some(bytes) = unhex(signature).and_then(|b| <[u8; 64]>::try_from(b).ok()) else { return false };
        let key: VerifyingKey = self.checkpoint.verifying_key();
        key.verify(message, &ed25519_dalek::Signature::from_bytes(&bytes)).is_ok()
    }
}

fn invalid(path: &Path, reason: String) -> KeyFileError {
    KeyFileError::Invalid { path: path.display().to_string(), reason }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

fn unhex32(text: &str) -> Option<[u8; 32]> {
    unhex(text).and_then(|b| <[u8; 32]>::try_from(b).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_is_created_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/audit.key");
        let made = AuditKeys::load_or_create(&path).unwrap();
        assert_eq!(made.origin(), KeyOrigin::Created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let read = AuditKeys::load_or_create(&path).unwrap();
        assert_eq!(
            (read.origin(), read.id(), read.checkpoint_public_key()),
            (KeyOrigin::Existing, made.id(), made.checkpoint_public_key())
        );
        assert_ne!(made.id(), AuditKeys::generate().id());
        let signature = made.sign(b"head");
        assert!(read.verify_signature(b"head", &signature));
        assert!(!read.verify_signature(b"head!", &signature));
        assert!(!AuditKeys::generate().verify_signature(b"head", &signature));
    }

    #[test]
    fn a_damaged_key_file_is_named_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.key");
        std::fs::write(&path, "chain-key = 12\n").unwrap();
        let err = AuditKeys::load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("chain-key is not 64 hexadecimal digits"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "chain-key = 12\n");
    }
}
