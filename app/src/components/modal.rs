//! A modal dialog on the browser's own `<dialog>`: focus moves into it and stays there, the
//! page behind is inert, and Escape closes it.

use leptos::html::Dialog;
use leptos::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A new element id for each use of a component that needs one.
pub fn unique_id(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

#[component]
pub fn Modal(
    /// Shown while true. The content is rendered only then, so it starts afresh each time.
    #[prop(into)]
    open: Signal<bool>,
    /// The user closed it (Escape or a Cancel button that calls it).
    #[prop(into)]
    on_close: Callback<()>,
    #[prop(into)] title: Signal<String>,
    children: ChildrenFn,
) -> impl IntoView {
    let dialog = NodeRef::<Dialog>::new();
    let title_id = unique_id("dialog-title");
    let labelled_by = title_id.clone();
    Effect::new(move |_| {
        let open = open.get();
        if let Some(element) = dialog.get() {
            if open && !element.open() {
                let _ = element.show_modal();
            } else if !open && element.open() {
                element.close();
            }
        }
    });
    view! {
        <dialog
            node_ref=dialog
            class="modal"
            aria-labelledby=labelled_by
            on:close=move |_| {
                if open.get_untracked() {
                    on_close.run(());
                }
            }
        >
            <h2 id=title_id>{move || title.get()}</h2>
            <Show when=move || open.get()>{children()}</Show>
        </dialog>
    }
}
