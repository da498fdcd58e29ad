//! Defences that hold for every answer and every request, whatever the route: the security
//! headers (set by one layer around the whole router, so 401, 403, 404 and server errors carry
//! them too), a panic turned into a Chinese 500 instead of a dropped connection, the rule for
//! where a `next=` may lead, and the CSRF token of a multipart form read from its first part
//! (never from the URL).

use std::panic::AssertUnwindSafe;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::{FutureExt, StreamExt};

use crate::error::AppError;
use crate::AppState;

/// What a browser may load and do on our pages: nothing from elsewhere, no scripts at all, no
/// framing by anyone.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// HSTS for a year once the site is reached over HTTPS.
pub const HSTS: &str = "max-age=31536000";

/// Sets the headers a security review expects on every answer: no framing, no sniffing, no
/// scripts from anywhere, no referrer to other sites, no caching of anything that does not say
/// otherwise (only the stylesheet does), and HSTS when the site is served over HTTPS.
pub fn harden(h: &mut HeaderMap, https: bool) {
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
}

/// The outermost layer: every response leaves through here, errors and the fallback's 404
/// included. A handler that panics answers a Chinese 500 (with the same headers).
pub async fn headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut response = match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(r) => r,
        Err(_) => {
            eprintln!("台账服务内部错误：处理请求时程序异常");
            let e = AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "服务器内部错误，请稍后再试或联系管理员");
            if api { e.api().into_response() } else { e.into_response() }
        }
    };
    harden(response.headers_mut(), state.config.https());
    response
}

fn percent_decode_once(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Whether `p` reads as a path of this site: one leading `/`, then no second `/` or `\`
/// (which browsers take as another host), no backslash and no control character anywhere (a
/// tab or a line break is dropped by browsers, which turns `/\t/evil` into `//evil`). As given
/// (`raw`, what goes into the `Location` header) it must be printable ASCII; decoded, it may
/// hold UTF-8 text (`/search?q=%E5%BC%A0`).
fn is_local(p: &[u8], raw: bool) -> bool {
    p.first() == Some(&b'/')
        && !matches!(p.get(1), Some(b'/') | Some(b'\\'))
        && p.iter().all(|&c| c >= 0x20 && c != 0x7f && c != b'\\' && (!raw || (0x21..0x7f).contains(&c)))
}

/// Where a `next=` may lead after sign-in: a path on this site, else the home page. The text
/// must be local as given and after each round of percent-decoding (so `/%2F/evil.example`,
/// `/%09/evil.example` and `/%5Cevil.example` are all refused).
pub fn local_path(next: &str) -> String {
    let mut text = next.as_bytes().to_vec();
    for round in 0..4 {
        if !is_local(&text, round == 0) {
            return "/".into();
        }
        let decoded = percent_decode_once(&String::from_utf8_lossy(&text));
        if decoded == text {
            return next.to_string();
        }
        text = decoded;
    }
    // Encoded more than four times over: not something our own pages produce.
    "/".into()
}

/// The boundary of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).filter_map(|p| p.trim().split_once('=')).find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary")).map(|(_, v)| v.trim().trim_matches('"').to_string()).filter(|b| !b.is_empty() && b.len() <= 200)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The value of the multipart body's first part if that part is the field `csrf`; `None` while
/// `buf` does not yet hold the whole part, `Some(None)` when it is some other part.
fn first_part_token(buf: &[u8], boundary: &str) -> Option<Option<String>> {
    let delimiter = format!("--{boundary}");
    let start = find(buf, delimiter.as_bytes())? + delimiter.len();
    let rest = buf.get(start..)?;
    let rest = rest.strip_prefix(b"\r\n")?;
    let head_end = find(rest, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&rest[..head_end]).to_ascii_lowercase();
    let is_csrf = head.lines().any(|l| {
        l.starts_with("content-disposition:") && l.split(';').any(|p| p.trim() == "name=\"csrf\"") && !l.contains("filename")
    });
    if !is_csrf {
        return Some(None);
    }
    let body = &rest[head_end + 4..];
    let end = find(body, format!("\r\n{delimiter}").as_bytes())?;
    Some(std::str::from_utf8(&body[..end]).ok().map(str::to_string))
}

/// How much of a multipart body is read to find the token: the form sends it first.
const PEEK_LIMIT: usize = 16 * 1024;

/// The CSRF token of a multipart form, read from the form's first part (our pages put the
/// hidden `csrf` field first; browsers send fields in their order), and the body given back
/// whole for the handler. Reads at most [`PEEK_LIMIT`] bytes; the rest streams on untouched.
pub async fn multipart_token(content_type: &str, body: Body) -> (Option<String>, Body) {
    let Some(boundary) = boundary(content_type) else { return (None, body) };
    let mut stream = body.into_data_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut token = None;
    let mut failed = None;
    while buf.len() < PEEK_LIMIT {
        match first_part_token(&buf, &boundary) {
            Some(t) => {
                token = t;
                break;
            }
            None => match stream.next().await {
                Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
                Some(Err(e)) => {
                    failed = Some(e);
                    break;
                }
                None => break,
            },
        }
    }
    let head = futures_util::stream::once(async move {
        match failed {
            Some(e) => Err(e),
            None => Ok(Bytes::from(buf)),
        }
    });
    (token.filter(|t| !t.is_empty() && t.len() <= 128), Body::from_stream(head.chain(stream)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        for ok in ["/", "/ledgers", "/ledgers/hazards?size=100", "/search?q=%E5%BC%A0", "/a/b/c#x"] {
            assert_eq!(local_path(ok), ok, "{ok}");
        }
        for bad in [
            "//evil.example/",
            "/\t/evil.example/",
            "/%09/evil.example/",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "/%252F/evil.example",
            "/\\evil.example",
            "/%5Cevil.example",
            "\\\\evil.example",
            "https://evil.example/",
            "http:/evil.example",
            "evil.example",
            "/\r\nSet-Cookie: x=1",
            "/%0d%0aLocation:%20//evil",
            " /ledgers",
            "/ledgers /x",
            "/张三",
            "",
        ] {
            assert_eq!(local_path(bad), "/", "{bad:?}");
        }
    }

    #[test]
    fn token_from_the_first_part() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc123\r\n--XyZ\r\nContent-Disposition: form-data; name=\"ledger\"\r\n\r\nhazards\r\n--XyZ--\r\n";
        assert_eq!(first_part_token(body.as_bytes(), "XyZ"), Some(Some("abc123".into())));
        assert_eq!(first_part_token(&body.as_bytes()[..60], "XyZ"), None, "not yet whole");
        let other = "--XyZ\r\nContent-Disposition: form-data; name=\"ledger\"\r\n\r\nhazards\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n--XyZ--\r\n";
        assert_eq!(first_part_token(other.as_bytes(), "XyZ"), Some(None), "only the first part counts");
        let file = "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"; filename=\"a.txt\"\r\n\r\nabc\r\n--XyZ--\r\n";
        assert_eq!(first_part_token(file.as_bytes(), "XyZ"), Some(None), "a file is not the token");
        assert_eq!(boundary("multipart/form-data; boundary=\"a b\""), Some("a b".into()));
        assert_eq!(boundary("multipart/form-data"), None);
    }
}
