//! How long closing an account takes (seed 001, "How long does the process take?"): several
//! minutes without workloads, 2 to 5 business days of preparation with them, and 7 to 15
//! more for domain names or ICP filings; then the cool-down.

use leptos::prelude::*;

/// The cool-down in words: "7 days", or "several days" when the server's figure is not known.
pub fn cool_down_words(days: Option<i64>) -> String {
    match days {
        Some(1) => "1 day".to_owned(),
        Some(n) => format!("{n} days"),
        None => "several days".to_owned(),
    }
}

#[component]
pub fn ClosureTimeline(
    /// The server's cool-down, when known.
    #[prop(optional)]
    cool_down_days: Option<i64>,
) -> impl IntoView {
    let cool_down = cool_down_words(cool_down_days);
    view! {
        <section class="closure-timeline" aria-labelledby="timeline-heading">
            <h3 id="timeline-heading">"How long does it take?"</h3>
            <dl class="timeline">
                <div>
                    <dt>"Accounts without workloads"</dt>
                    <dd>{format!("Several minutes to start the closure, then a cool-down of {cool_down}.")}</dd>
                </div>
                <div>
                    <dt>"Accounts with workloads"</dt>
                    <dd>{format!("2 to 5 business days to prepare (back up and migrate data, release resources), then several minutes to start the closure, then a cool-down of {cool_down}.")}</dd>
                </div>
                <div>
                    <dt>"Accounts with domain names or ICP filings"</dt>
                    <dd>"An extra 7 to 15 business days to transfer the domain names and cancel or transfer the ICP filings."</dd>
                </div>
            </dl>
            <p class="muted small">
                "The cool-down settles bills that arrive late. It cannot be shortened, and the closure cannot be revoked once it starts."
            </p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::cool_down_words;

    #[test]
    fn the_cool_down_reads_in_days() {
        assert_eq!(cool_down_words(Some(7)), "7 days");
        assert_eq!(cool_down_words(Some(1)), "1 day");
        assert_eq!(cool_down_words(None), "several days");
    }
}
