//! `POST /auth`: credentials for a bearer token.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An authentication request: an API key (`access-type` `access_key`, the default) or a login and password
/// (`access-type` `password`). Other Akeyless keys (`azure-cloud`, `gcp-audience`, `json`, …) are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", default)]
pub struct Auth {
    /// `access_key` (default) or `password`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "access_key")]
    pub access_type: Option<String>,
    /// The API key's ID (`p-…`), for `access_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_id: Option<String>,
    /// The API key's secret, for `access_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    /// The user's login, for `password`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_email: Option<String>,
    /// The user's password, for `password`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_password: Option<String>,
}

/// How `/auth` is asked to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessType {
    AccessKey,
    Password,
}

impl AccessType {
    pub const fn as_str(self) -> &'static str {
        match self {
            AccessType::AccessKey => "access_key",
            AccessType::Password => "password",
        }
    }
}

impl fmt::Display for AccessType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccessType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "access_key" => Ok(AccessType::AccessKey),
            "password" => Ok(AccessType::Password),
            other => Err(format!("unsupported access-type {other:?}; allowed: access_key, password")),
        }
    }
}

impl Auth {
    /// The access type asked for (`access_key` when absent or empty).
    pub fn access_type(&self) -> Result<AccessType, String> {
        match self.access_type.as_deref() {
            None | Some("") => Ok(AccessType::AccessKey),
            Some(other) => other.parse(),
        }
    }
}

/// A bearer token and when it expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuthOutput {
    /// Send as `token` in later requests, or as `Authorization: Bearer …`.
    #[schema(example = "t-3q2…")]
    pub token: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub expiration: String,
}
