//! The IDs the API takes in its paths (`/api/instances/{id}/renew`), one type per kind of
//! thing: a handler extracts `Path<InstanceId>` and hands the domain an `&InstanceId`, so an
//! instance's ID cannot be passed where a payment method's is expected.
//!
//! Each holds the path segment as sent, unparsed, and binds to SQL as that text: which IDs
//! exist is the database's to say, so an ID of no such thing (whatever its shape) is the
//! domain's `not_found` (or its own code, such as `reset_not_found`), found by the query that
//! also checks it is the account's own. The app sends them as it received them, as strings;
//! the document states them as strings (the routes' `params`).

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, sqlx::Type)]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        /// An ID the server made, or read from its own rows (a job's subject).
        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )+};
}

ids! {
    /// A pending sign-up (`signup_id` of its start).
    SignupId;
    /// A password reset (`reset_id` of its start).
    ResetId;
    /// A signed-in session as the account's list of sessions names it (the start of its
    /// token's hash, `auth::public_id`), never the token.
    SessionListId;
    /// One of the account's RAM users.
    RamUserId;
    /// A bought resource: an instance, or a domain name.
    InstanceId;
    /// A payment method bound to the account.
    PaymentMethodId;
    /// An unsubscription, as its record shows it.
    UnsubscriptionId;
    /// A closure's system check.
    SystemCheckId;
    /// An unpaid bill that blocks closure.
    BillId;
    /// An ICP filing.
    IcpFilingId;
    /// A multi-account relationship.
    RelationshipId;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The path segment is kept as sent: the answer to an ID of no such thing is the
    /// domain's, not a parse error of the path.
    #[test]
    fn any_segment_is_an_id_kept_as_sent() {
        for sent in ["i-3f2a", "no-such-id", "Ünïcode ok", ""] {
            let id: InstanceId = serde_json::from_value(serde_json::json!(sent)).unwrap();
            assert_eq!(id.as_str(), sent);
            assert_eq!(id.to_string(), sent);
        }
    }
}
