//! Whole seconds left until something is allowed again (resending a code).

use leptos::prelude::*;
use std::time::Duration;

#[derive(Clone, Copy)]
pub struct Countdown {
    remaining: RwSignal<u64>,
    timer: StoredValue<Option<IntervalHandle>>,
}

impl Countdown {
    /// Stops ticking when the component that made it goes away.
    pub fn new() -> Self {
        let countdown = Self {
            remaining: RwSignal::new(0),
            timer: StoredValue::new(None),
        };
        on_cleanup(move || countdown.stop());
        countdown
    }

    pub fn start(self, seconds: u64) {
        self.stop();
        self.remaining.set(seconds);
        if seconds == 0 {
            return;
        }
        let tick = move || {
            let left = self.remaining.try_update(|r| {
                *r = r.saturating_sub(1);
                *r
            });
            if matches!(left, None | Some(0)) {
                self.stop();
            }
        };
        let handle = set_interval_with_handle(tick, Duration::from_secs(1)).ok();
        self.timer.try_set_value(handle);
    }

    pub fn stop(self) {
        if let Some(Some(handle)) = self.timer.try_update_value(Option::take) {
            handle.clear();
        }
    }

    pub fn remaining(self) -> u64 {
        self.remaining.get()
    }
}
