//! Closed sets of values, stored and sent as lower-case text.

use std::fmt;
use std::str::FromStr;

/// A text value that is not one of an enum's allowed values. The message names the value and lists what is allowed,
/// so it can be shown to a user as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}; allowed: {allowed}")]
pub struct ParseEnumError {
    /// What was being parsed, e.g. "status".
    pub kind: &'static str,
    /// The rejected input, as given.
    pub value: String,
    /// The allowed values, comma-separated.
    pub allowed: String,
}

/// Declares a closed enum with its wire names, human labels, parsing and serde impls, all from one table.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, $label:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire and storage name (lower case).
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// The name shown to people.
            pub const fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// The wire names of all values, comma-separated (for error messages and help texts).
            pub fn allowed() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseEnumError;

            /// Accepts the wire name, case-insensitively and ignoring surrounding blanks.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let trimmed = s.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(trimmed))
                    .ok_or_else(|| ParseEnumError { kind: $kind, value: s.to_owned(), allowed: Self::allowed() })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

text_enum! {
    /// Where a session is in its life. `Connecting` and `Connected` are active; the other three are final.
    SessionStatus, "status" {
        Connecting => "connecting", "Connecting";
        Connected => "connected", "Connected";
        Failed => "failed", "Failed";
        Completed => "completed", "Completed";
        Terminated => "terminated", "Terminated";
    }
}

impl SessionStatus {
    /// The statuses of a session that is still open (the CLI's and API's default filter).
    pub const ACTIVE: &'static [SessionStatus] = &[SessionStatus::Connecting, SessionStatus::Connected];

    pub const fn is_active(self) -> bool {
        matches!(self, SessionStatus::Connecting | SessionStatus::Connected)
    }

    /// Whether a gateway may move a session from `self` to `next`:
    /// connecting → connected | failed | terminated; connected → completed | failed | terminated.
    /// Final states never change again.
    pub const fn can_become(self, next: SessionStatus) -> bool {
        use SessionStatus::*;
        matches!(
            (self, next),
            (Connecting, Connected | Failed | Terminated) | (Connected, Completed | Failed | Terminated)
        )
    }
}

/// What to do with a reported status, given the session's current one (see [`SessionStatus::judge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// A step the state machine allows: apply it.
    Apply,
    /// The session is already in that state, or past it (an earlier state delivered late): acknowledge, change nothing.
    Ignore,
    /// A step the state machine forbids (e.g. completed → failed, connecting → completed).
    Reject,
}

impl SessionStatus {
    /// How far along its life a session is: connecting, connected, ended.
    const fn stage(self) -> u8 {
        match self {
            SessionStatus::Connecting => 0,
            SessionStatus::Connected => 1,
            _ => 2,
        }
    }

    /// Judges a report that the session (now `self`) is `next`. Gateways may deliver reports out of order; a report
    /// of an earlier stage than the session has reached is recognised as late and ignored rather than refused.
    pub const fn judge(self, next: SessionStatus) -> Transition {
        if self.can_become(next) {
            Transition::Apply
        } else if self as u8 == next as u8 || next.stage() < self.stage() {
            Transition::Ignore
        } else {
            Transition::Reject
        }
    }
}

text_enum! {
    /// How the user started the session.
    ClientInterface, "client interface" {
        WebPortalCli => "web_portal_cli", "Web Portal - CLI";
        WebPortalWeb => "web_portal_web", "Web Portal - Web";
        Cli => "cli", "CLI";
        DesktopApp => "desktop_app", "Desktop Application";
    }
}

text_enum! {
    /// A folded filter of the overview whose choices are counted (the status filter has [`crate::StatusCounts`]).
    Facet, "filter" {
        ClientInterface => "client_interface", "Client interface";
        ResourceType => "resource_type", "Resource type";
        Gateway => "gateway", "Gateway";
    }
}

text_enum! {
    /// The kind of resource reached through the gateway.
    ResourceType, "resource type" {
        Ssh => "ssh", "SSH";
        Rdp => "rdp", "RDP";
        Mysql => "mysql", "MySQL";
        Postgres => "postgres", "PostgreSQL";
        Mssql => "mssql", "MS SQL Server";
        Mongodb => "mongodb", "MongoDB";
        Oracle => "oracle", "Oracle";
        Redis => "redis", "Redis";
        K8s => "k8s", "Kubernetes";
        Eks => "eks", "Amazon EKS";
        Gke => "gke", "Google GKE";
        Aks => "aks", "Azure AKS";
        Aws => "aws", "AWS Console";
        Azure => "azure", "Azure Portal";
        Gcp => "gcp", "Google Cloud Console";
        Web => "web", "Web Application";
    }
}

text_enum! {
    /// The protocol family a session uses, derived from its resource type (the API's `connection_type`).
    ConnectionType, "connection type" {
        Ssh => "ssh", "SSH";
        Rdp => "rdp", "RDP";
        Db => "db", "Database";
        K8s => "k8s", "Kubernetes";
        Cloud => "cloud", "Cloud console";
        Web => "web", "Web";
    }
}

impl ResourceType {
    pub const fn connection_type(self) -> ConnectionType {
        use ResourceType::*;
        match self {
            Ssh => ConnectionType::Ssh,
            Rdp => ConnectionType::Rdp,
            Mysql | Postgres | Mssql | Mongodb | Oracle | Redis => ConnectionType::Db,
            K8s | Eks | Gke | Aks => ConnectionType::K8s,
            Aws | Azure | Gcp => ConnectionType::Cloud,
            Web => ConnectionType::Web,
        }
    }
}

text_enum! {
    /// An access role's Secure Remote Access rule: which gateways' sessions its holders may see beyond their own.
    SraRule, "SRA rule" {
        /// Only the holder's own sessions (Self visibility, which every user has anyway).
        None => "none", "None";
        /// Every session of the gateways listed on the role.
        Own => "own", "Own";
        /// Every session.
        All => "all", "All";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_through_parse_and_serde() {
        for s in SessionStatus::ALL {
            assert_eq!(s.as_str().parse::<SessionStatus>(), Ok(*s));
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(serde_json::from_str::<SessionStatus>(&json).unwrap(), *s);
        }
        for r in ResourceType::ALL {
            assert_eq!(r.as_str().parse::<ResourceType>(), Ok(*r));
        }
        for c in ClientInterface::ALL {
            assert_eq!(c.as_str().parse::<ClientInterface>(), Ok(*c));
        }
    }

    #[test]
    fn parsing_is_case_insensitive_and_trims() {
        assert_eq!(" Connected ".parse::<SessionStatus>(), Ok(SessionStatus::Connected));
        assert_eq!("SSH".parse::<ResourceType>(), Ok(ResourceType::Ssh));
    }

    #[test]
    fn unknown_values_name_the_value_and_the_allowed_ones() {
        let err = "active".parse::<SessionStatus>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown status \"active\"; allowed: connecting, connected, failed, completed, terminated"
        );
        let err = serde_json::from_str::<ClientInterface>("\"browser\"").unwrap_err();
        assert!(err.to_string().contains("web_portal_cli, web_portal_web, cli, desktop_app"), "{err}");
    }

    #[test]
    fn late_reports_are_ignored_and_impossible_ones_rejected() {
        use SessionStatus::*;
        assert_eq!(Connecting.judge(Connected), Transition::Apply);
        assert_eq!(Connected.judge(Connecting), Transition::Ignore, "an earlier stage, late");
        assert_eq!(Completed.judge(Connected), Transition::Ignore, "an earlier stage, late");
        assert_eq!(Failed.judge(Connecting), Transition::Ignore);
        assert_eq!(Completed.judge(Completed), Transition::Ignore, "a repeat");
        assert_eq!(Completed.judge(Failed), Transition::Reject, "ended states are final");
        assert_eq!(Terminated.judge(Completed), Transition::Reject);
        assert_eq!(Connecting.judge(Completed), Transition::Reject, "completed needs connected first");
        for from in SessionStatus::ALL {
            for to in SessionStatus::ALL {
                assert_eq!(from.judge(*to) == Transition::Apply, from.can_become(*to), "{from} → {to}");
            }
        }
    }

    #[test]
    fn state_machine_allows_only_forward_moves() {
        use SessionStatus::*;
        assert!(Connecting.can_become(Connected));
        assert!(Connecting.can_become(Failed));
        assert!(Connected.can_become(Completed));
        assert!(!Connecting.can_become(Completed));
        assert!(!Connected.can_become(Connecting));
        for end in [Failed, Completed, Terminated] {
            assert!(!end.is_active());
            for next in SessionStatus::ALL {
                assert!(!end.can_become(*next), "{end} must be final");
            }
        }
    }

    #[test]
    fn every_resource_type_has_a_connection_type() {
        assert_eq!(ResourceType::Mysql.connection_type(), ConnectionType::Db);
        assert_eq!(ResourceType::Eks.connection_type(), ConnectionType::K8s);
        assert_eq!(ResourceType::Rdp.connection_type(), ConnectionType::Rdp);
    }
}
