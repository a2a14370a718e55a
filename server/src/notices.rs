//! The words of every message the product sends. The domain names a [`Notice`] and its facts;
//! the templates in `server/templates/` word it: an email's subject, plain-text part and HTML
//! part (`email/<notice>.txt`, `email/<notice>.html`, on the layouts with the product's name
//! and colours), an SMS (`phone/<notice>.sms.txt`) and a voice call (`phone/<notice>.voice.txt`).
//! A message is worded when it is queued, so the outbox keeps exactly what was sent.

use crate::clock::Millis;
use chrono::{TimeZone, Utc};
use minijinja::{Environment, UndefinedBehavior, Value, context};
use serde::Serialize;
use shared::refund::RefundDestination;

/// Every notice, with the facts its templates word. The variant's name in snake case names
/// its templates.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
pub enum Notice<'a> {
    VerificationCode {
        code: &'a str,
        minutes: i64,
    },
    PasswordReset {
        /// The address the reset came from.
        client: &'a str,
    },
    PasswordChanged {
        client: &'a str,
    },
    TwoStepOn,
    TwoStepOff,
    ClosureStarted {
        /// When the cool-down ends, in milliseconds since the epoch.
        ends_at: Millis,
    },
    AccountClosed,
    ClosureFailed {
        /// The overdue totals, one per currency.
        overdue: String,
    },
    Unsubscribed {
        count: usize,
        total: String,
    },
    RefundArrived {
        amount: String,
        destination: RefundDestination,
    },
    /// A refund paid to a card came back from the card network and went to the balance.
    RefundReturnedToBalance {
        amount: String,
    },
    WithdrawalPaid {
        amount: String,
        /// The payment method as the console names it.
        destination: &'a str,
    },
    SubscriptionExpired {
        instance: &'a str,
        product: &'a str,
        auto_renew: bool,
    },
}

/// An email as worded: its subject and its two parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The templates, compiled once at start: one that does not compile stops the start.
pub struct Templates {
    env: Environment<'static>,
}

macro_rules! template {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/", $name)),
        )
    };
}

/// Every template, built into the binary.
const SOURCES: &[(&str, &str)] = &[
    template!("email/layout.txt"),
    template!("email/layout.html"),
    template!("email/verification_code.txt"),
    template!("email/verification_code.html"),
    template!("phone/verification_code.sms.txt"),
    template!("phone/verification_code.voice.txt"),
    template!("email/password_reset.txt"),
    template!("email/password_reset.html"),
    template!("phone/password_reset.sms.txt"),
    template!("email/password_changed.txt"),
    template!("email/password_changed.html"),
    template!("phone/password_changed.sms.txt"),
    template!("email/two_step_on.txt"),
    template!("email/two_step_on.html"),
    template!("email/two_step_off.txt"),
    template!("email/two_step_off.html"),
    template!("email/closure_started.txt"),
    template!("email/closure_started.html"),
    template!("phone/closure_started.sms.txt"),
    template!("email/account_closed.txt"),
    template!("email/account_closed.html"),
    template!("phone/account_closed.sms.txt"),
    template!("email/closure_failed.txt"),
    template!("email/closure_failed.html"),
    template!("phone/closure_failed.sms.txt"),
    template!("email/unsubscribed.txt"),
    template!("email/unsubscribed.html"),
    template!("email/refund_arrived.txt"),
    template!("email/refund_arrived.html"),
    template!("email/refund_returned_to_balance.txt"),
    template!("email/refund_returned_to_balance.html"),
    template!("email/withdrawal_paid.txt"),
    template!("email/withdrawal_paid.html"),
    template!("email/subscription_expired.txt"),
    template!("email/subscription_expired.html"),
];

impl Templates {
    pub fn load() -> Result<Templates, minijinja::Error> {
        let mut env = Environment::new();
        // A fact a template names that the notice does not carry is an error, not a blank.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.add_filter("utc", utc);
        env.add_filter("destination", destination);
        for (name, source) in SOURCES {
            env.add_template(name, source)?;
        }
        Ok(Templates { env })
    }

    /// The notice as an email.
    pub fn email(&self, notice: &Notice) -> Result<Email, minijinja::Error> {
        let facts = Value::from_serialize(notice);
        let name = facts.get_attr("notice")?;
        let mut text = self
            .env
            .get_template(&format!("email/{name}.txt"))?
            .render_captured(&facts)?;
        let subject = text.with_state_mut(|state| state.render_block("subject"))?;
        let html = self.env.get_template(&format!("email/{name}.html"))?;
        Ok(Email {
            html: html.render(context! { subject => &subject, ..facts })?,
            text: text.into_output(),
            subject,
        })
    }

    /// The subject of the notice's email, which its SMS and call are listed under.
    pub fn subject(&self, notice: &Notice) -> Result<String, minijinja::Error> {
        let facts = Value::from_serialize(notice);
        let name = facts.get_attr("notice")?;
        self.env
            .get_template(&format!("email/{name}.txt"))?
            .render_captured(&facts)?
            .with_state_mut(|state| state.render_block("subject"))
    }

    /// The notice as an SMS.
    pub fn sms(&self, notice: &Notice) -> Result<String, minijinja::Error> {
        self.phone(notice, "sms")
    }

    /// The notice as the words of a voice call.
    pub fn voice(&self, notice: &Notice) -> Result<String, minijinja::Error> {
        self.phone(notice, "voice")
    }

    fn phone(&self, notice: &Notice, kind: &str) -> Result<String, minijinja::Error> {
        let facts = Value::from_serialize(notice);
        let name = facts.get_attr("notice")?;
        self.env
            .get_template(&format!("phone/{name}.{kind}.txt"))?
            .render(&facts)
    }
}

/// A time in milliseconds since the epoch, as "5 December 2026, 14:03 UTC".
fn utc(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_default()
        .format("%-d %B %Y, %H:%M UTC")
        .to_string()
}

/// Where a refund went, as "your …" ends.
fn destination(to: &str) -> Result<&'static str, minijinja::Error> {
    let worded = [
        RefundDestination::Balance,
        RefundDestination::Paypal,
        RefundDestination::Paytm,
        RefundDestination::Card,
    ]
    .into_iter()
    .find(|d| d.as_str() == to)
    .map(|d| match d {
        RefundDestination::Balance => "Account Center balance",
        RefundDestination::Paypal => "PayPal account",
        RefundDestination::Paytm => "Paytm account",
        RefundDestination::Card => "bank card",
    });
    worded.ok_or_else(|| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("no words for the refund destination {to:?}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_notice() -> Vec<Notice<'static>> {
        vec![
            Notice::VerificationCode {
                code: "123456",
                minutes: 10,
            },
            Notice::PasswordReset {
                client: "203.0.113.7",
            },
            Notice::PasswordChanged {
                client: "203.0.113.7",
            },
            Notice::TwoStepOn,
            Notice::TwoStepOff,
            Notice::ClosureStarted {
                ends_at: Millis(1_796_479_380_000),
            },
            Notice::AccountClosed,
            Notice::ClosureFailed {
                overdue: "USD 3.20".into(),
            },
            Notice::Unsubscribed {
                count: 2,
                total: "USD 41.10".into(),
            },
            Notice::RefundArrived {
                amount: "USD 41.10".into(),
                destination: RefundDestination::Card,
            },
            Notice::RefundReturnedToBalance {
                amount: "USD 20.00".into(),
            },
            Notice::WithdrawalPaid {
                amount: "USD 20.00".into(),
                destination: "Visa •••• 4242",
            },
            Notice::SubscriptionExpired {
                instance: "i-abc",
                product: "ECS",
                auto_renew: true,
            },
        ]
    }

    #[test]
    fn every_notice_words_an_email_with_its_subject_in_both_parts() {
        let templates = Templates::load().unwrap();
        for notice in every_notice() {
            let email = templates.email(&notice).unwrap();
            assert!(
                !email.subject.is_empty() && !email.subject.contains('\n'),
                "{notice:?}"
            );
            assert!(email.html.starts_with("<!DOCTYPE html>"), "{notice:?}");
            assert!(
                email
                    .html
                    .contains(&format!("<title>{}</title>", email.subject))
            );
            assert!(
                email.text.ends_with("it cannot be turned off."),
                "{notice:?}"
            );
            assert!(
                !email.text.contains('<'),
                "no markup in the text part: {notice:?}"
            );
            assert!(!email.text.contains("{{") && !email.html.contains("{{"));
        }
    }

    #[test]
    fn every_file_in_the_templates_folder_is_built_in() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut on_disk = Vec::new();
        for folder in ["email", "phone"] {
            for file in std::fs::read_dir(root.join(folder)).unwrap() {
                let name = file.unwrap().file_name().into_string().unwrap();
                on_disk.push(format!("{folder}/{name}"));
            }
        }
        on_disk.sort();
        let mut built_in: Vec<String> = SOURCES.iter().map(|(n, _)| n.to_string()).collect();
        built_in.sort();
        assert_eq!(on_disk, built_in);
    }

    #[test]
    fn facts_are_escaped_in_the_html_part_only() {
        let templates = Templates::load().unwrap();
        let notice = Notice::WithdrawalPaid {
            amount: "USD 1.00".into(),
            destination: "<b>card</b> & co",
        };
        let email = templates.email(&notice).unwrap();
        assert!(
            email.html.contains("&lt;b&gt;card&lt;&#x2f;b&gt; &amp; co"),
            "{}",
            email.html
        );
        assert!(email.text.contains("<b>card</b> & co"), "{}", email.text);
    }

    #[test]
    fn a_code_and_its_expiry_in_every_medium() {
        let templates = Templates::load().unwrap();
        let code = Notice::VerificationCode {
            code: "402917",
            minutes: 10,
        };
        let email = templates.email(&code).unwrap();
        assert!(email.text.contains("code is 402917.") && email.text.contains("10 minutes"));
        assert!(email.html.contains(">402917<"));
        assert_eq!(
            templates.sms(&code).unwrap(),
            "[Account Center] Your verification code is 402917. It expires in 10 minutes."
        );
        assert_eq!(
            templates.voice(&code).unwrap().matches("402917").count(),
            2,
            "said twice"
        );
    }

    #[test]
    fn times_are_worded_in_utc_and_plurals_follow_the_count() {
        let templates = Templates::load().unwrap();
        let started = templates
            .email(&Notice::ClosureStarted {
                ends_at: Millis(1_796_479_380_000),
            })
            .unwrap();
        assert!(
            started.text.contains("ends on 5 December 2026, 14:03 UTC"),
            "{}",
            started.text
        );
        let one = Notice::Unsubscribed {
            count: 1,
            total: "USD 1.00".into(),
        };
        assert!(templates.email(&one).unwrap().text.contains("1 resource."));
        let two = Notice::Unsubscribed {
            count: 2,
            total: "USD 1.00".into(),
        };
        assert!(templates.email(&two).unwrap().text.contains("2 resources."));
    }

    #[test]
    fn a_missing_fact_is_an_error_not_a_blank() {
        let templates = Templates::load().unwrap();
        let template = templates
            .env
            .get_template("email/refund_arrived.txt")
            .unwrap();
        assert!(template.render(context! { amount => "USD 1.00" }).is_err());
    }
}
