//! What can go wrong, and the exit code each kind of failure ends with.

/// A failure, with a message for stderr.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line or a local setting is wrong: exit 2.
    #[error("{0}")]
    Usage(String),
    /// The server refused the request, answered unexpectedly, or could not be reached: exit 1.
    #[error("{0}")]
    Server(String),
    /// Local I/O (the profile file, the terminal): exit 1.
    #[error("{0}")]
    Local(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Server(_) | CliError::Local(_) => 1,
        }
    }
}
