//! What the tests that drive the real `kindred` binary share: starting it
//! until it serves, and signing in over HTTP as a browser does.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

/// Starts `kindred` with `args` and waits until it prints where it serves;
/// returns the process and its base URL. Its stdout is drained from then on
/// so the server never blocks on it.
pub async fn serving(mut cmd: Command) -> (Child, String) {
    let mut child = cmd.stdout(Stdio::piped()).spawn().expect("run kindred");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let base = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        loop {
            line.clear();
            if out.read_line(&mut line).unwrap() == 0 {
                panic!("kindred stopped before serving");
            }
            if let Some(addr) = line.trim().strip_prefix("Kindred is serving on ") {
                let base = addr.to_string();
                std::thread::spawn(move || {
                    let mut rest = String::new();
                    let _ = out.read_to_string(&mut rest);
                });
                return base;
            }
        }
    })
    .await
    .unwrap();
    (child, base)
}

/// The CSRF token in a page's form.
pub fn csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

/// A client that keeps cookies and does not follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Posts the sign-in form (after fetching it for its CSRF token).
pub async fn sign_in(c: &reqwest::Client, base: &str, email: &str, password: &str) -> reqwest::Response {
    let login = c
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    c.post(format!("{base}/login"))
        .form(&[
            ("csrf", csrf(&login).as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}
