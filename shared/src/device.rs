//! A session's device in words, from its user agent: "Chrome on macOS". The server sends the
//! user agent as the browser sent it; the page words it with this.

/// The browser and system a user agent names, or "Unknown …" where it names none we know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    pub browser: &'static str,
    pub os: &'static str,
}

impl Device {
    pub fn label(&self) -> String {
        format!("{} on {}", self.browser, self.os)
    }
}

/// Markers in the order they must be tried: Edge, Opera and Samsung's browser also say
/// "Chrome", and Chrome also says "Safari"; Android also says "Linux", iOS "Mac OS X".
const BROWSERS: [(&str, &str); 11] = [
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("HeadlessChrome/", "Headless Chrome"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("reqwest", "API client"),
];

const SYSTEMS: [(&str, &str); 8] = [
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
    ("X11", "Unix"),
];

pub fn describe(user_agent: Option<&str>) -> Device {
    let ua = user_agent.unwrap_or("");
    let find = |table: &[(&str, &'static str)], unknown: &'static str| {
        table
            .iter()
            .find(|(marker, _)| ua.contains(marker))
            .map_or(unknown, |&(_, name)| name)
    };
    Device {
        browser: find(&BROWSERS, "Unknown browser"),
        os: find(&SYSTEMS, "unknown system"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_common_browsers_and_systems() {
        let cases = [
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome on macOS",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox on Linux",
            ),
            ("curl/8.5.0", "curl on unknown system"),
        ];
        for (ua, label) in cases {
            assert_eq!(describe(Some(ua)).label(), label, "{ua}");
        }
        assert_eq!(describe(None).label(), "Unknown browser on unknown system");
    }
}
