//! Request headers without an HTTP crate: the server adapts its own header map.

/// Read access to a request's headers. Names are matched ASCII case-insensitively; a value
/// that is not valid text reads as absent.
///
/// Implemented for closures, so the server can pass
/// `&|name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)`,
/// and for slices of `(name, value)` pairs, which is what tests use.
pub trait Headers {
    fn get(&self, name: &str) -> Option<String>;
}

impl<F> Headers for F
where
    F: Fn(&str) -> Option<String>,
{
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

impl Headers for [(&str, &str)] {
    fn get(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| (*v).to_owned())
    }
}

impl<const N: usize> Headers for [(&str, &str); N] {
    fn get(&self, name: &str) -> Option<String> {
        Headers::get(self.as_slice(), name)
    }
}

impl Headers for [(String, String)] {
    fn get(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

impl Headers for Vec<(String, String)> {
    fn get(&self, name: &str) -> Option<String> {
        Headers::get(self.as_slice(), name)
    }
}

/// A header's value with surrounding whitespace trimmed; empty counts as absent.
pub(crate) fn non_empty(headers: &dyn Headers, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_match_in_any_case() {
        let pairs = [("X-GitHub-Event", "ping")];
        assert_eq!(
            Headers::get(&pairs, "x-github-event").as_deref(),
            Some("ping")
        );
        assert_eq!(Headers::get(&pairs, "X-GitHub-Delivery"), None);
    }

    #[test]
    fn a_closure_over_the_servers_header_map_is_a_header_source() {
        let map = std::collections::HashMap::from([("x-gitlab-token", "t0k")]);
        let lookup = |name: &str| {
            map.get(name.to_ascii_lowercase().as_str())
                .map(|v| v.to_string())
        };
        let headers: &dyn Headers = &lookup;
        assert_eq!(headers.get("X-Gitlab-Token").as_deref(), Some("t0k"));
        assert_eq!(non_empty(headers, "Idempotency-Key"), None);
    }
}
