//! Profiles: the server URL and bearer token `sra auth` keeps for later commands, one JSON file per profile under
//! `$SRA_CONFIG_DIR`, else `$XDG_CONFIG_HOME/sra`, else `~/.config/sra`. Files are written with mode 0600 (the token is
//! a credential) by replacing them atomically, so a crash never leaves half a profile.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::CliError;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub gateway_url: Option<String>,
    pub token: Option<String>,
    /// When the token expires (RFC 3339), as the server said.
    pub expiration: Option<String>,
}

/// Where profiles live.
pub fn config_dir() -> Result<PathBuf, CliError> {
    let from_env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = from_env("SRA_CONFIG_DIR") {
        return Ok(dir);
    }
    if let Some(dir) = from_env("XDG_CONFIG_HOME") {
        return Ok(dir.join("sra"));
    }
    from_env("HOME")
        .map(|home| home.join(".config").join("sra"))
        .ok_or_else(|| CliError::Usage("cannot find a config directory: set SRA_CONFIG_DIR or HOME".into()))
}

/// The file of profile `name`; names are letters, digits, `-` and `_` only, so they cannot point elsewhere.
pub fn path(name: &str) -> Result<PathBuf, CliError> {
    let valid =
        !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(CliError::Usage(format!(
            "invalid profile name {name:?}; allowed: 1 to 64 letters, digits, '-' and '_'"
        )));
    }
    Ok(config_dir()?.join("profiles").join(format!("{name}.json")))
}

/// Reads a profile; a missing file is an empty profile.
pub fn load(name: &str) -> Result<Profile, CliError> {
    let path = path(name)?;
    match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| CliError::Local(format!("profile {} is not readable: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Profile::default()),
        Err(e) => Err(CliError::Local(format!("cannot read profile {}: {e}", path.display()))),
    }
}

/// Writes a profile (mode 0600, directory 0700).
pub fn save(name: &str, profile: &Profile) -> Result<PathBuf, CliError> {
    let path = path(name)?;
    let fail = |what: &str, p: &Path, e: std::io::Error| CliError::Local(format!("cannot {what} {}: {e}", p.display()));
    let dir = path.parent().expect("a profile path has a directory");
    create_private_dir(dir).map_err(|e| fail("create", dir, e))?;
    let temporary = dir.join(format!(".{}.tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("profile")));
    let mut file = private_file(&temporary).map_err(|e| fail("write", &temporary, e))?;
    let text = serde_json::to_vec_pretty(profile).expect("a profile always serializes");
    file.write_all(&text).and_then(|()| file.sync_all()).map_err(|e| fail("write", &temporary, e))?;
    fs::rename(&temporary, &path).map_err(|e| fail("write", &path, e))?;
    Ok(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = fs::remove_file(path);
    fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    fs::File::create(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape_the_profiles_directory() {
        for bad in ["", "../x", "a/b", "a b", "é", &"x".repeat(65)] {
            let err = path(bad).unwrap_err();
            assert!(matches!(err, CliError::Usage(_)), "{bad:?}");
        }
    }
}
