//! The doc site in a real browser: headless Chromium loads every page (after its JS ran), the
//! guides from `docs/` included, follows every internal link and anchor, runs searches, loads a
//! page over HTTP and takes screenshots.
//!
//! Skipped with a message when Chromium is missing, unless `KOSMO_REQUIRE_BROWSER=1` (CI).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(60);

/// Chromium from `$CHROMIUM` or Debian's path; `None` means skip (or fail when it is required).
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("KOSMO_REQUIRE_BROWSER").as_deref() != Ok("1"),
        "KOSMO_REQUIRE_BROWSER=1 but there is no Chromium at {}",
        path.display()
    );
    eprintln!(
        "SKIPPED site_browser: no Chromium at {} (set CHROMIUM=/path/to/chromium, or KOSMO_REQUIRE_BROWSER=1 to fail instead)",
        path.display()
    );
    None
}

/// Runs headless Chromium with `args` and a fresh profile; returns its stdout. Killed after a
/// minute so a hung browser fails the test instead of stalling CI.
fn run_chromium(chromium: &Path, args: &[String]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting chromium");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).map(|_| text)
    });
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium {args:?} exited with {status}");
            break;
        }
        if started.elapsed() > CHROMIUM_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium {args:?} took more than {CHROMIUM_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap().unwrap()
}

fn dump_dom(chromium: &Path, url: &str) -> String {
    run_chromium(
        chromium,
        &[
            "--virtual-time-budget=3000".to_string(),
            "--dump-dom".to_string(),
            url.to_string(),
        ],
    )
}

/// The tags of serialized HTML: name and attributes (entity `&amp;` and `&quot;` decoded).
fn tags(html: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let bytes = html.as_bytes();
    let mut tags = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        if html[i..].starts_with("<!--") {
            i = html[i..].find("-->").map_or(bytes.len(), |end| i + end + 3);
            continue;
        }
        i += 1;
        let name_start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'-') {
            i += 1;
        }
        let name = html[name_start..i].to_ascii_lowercase();
        let mut attrs = BTreeMap::new();
        // Attributes until the closing `>`; quoted values may contain `>`.
        while i < bytes.len() && bytes[i] != b'>' {
            if bytes[i].is_ascii_whitespace() || bytes[i] == b'/' {
                i += 1;
                continue;
            }
            let key_start = i;
            while i < bytes.len() && !b"= \t\n\r>/".contains(&bytes[i]) {
                i += 1;
            }
            let key = html[key_start..i].to_ascii_lowercase();
            let mut value = String::new();
            if i < bytes.len() && bytes[i] == b'=' {
                i += 1;
                if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                    let quote = bytes[i];
                    let start = i + 1;
                    let end = bytes[start..]
                        .iter()
                        .position(|&b| b == quote)
                        .map_or(bytes.len(), |p| start + p);
                    value = html[start..end].to_string();
                    i = end + 1;
                } else {
                    let start = i;
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                        i += 1;
                    }
                    value = html[start..i].to_string();
                }
            }
            attrs.insert(key, value.replace("&quot;", "\"").replace("&amp;", "&"));
        }
        if !name.is_empty() {
            tags.push((name, attrs));
        }
        i += 1;
    }
    tags
}

fn ids(dom: &str) -> BTreeSet<String> {
    tags(dom)
        .into_iter()
        .filter_map(|(_, attrs)| attrs.get("id").cloned())
        .collect()
}

fn html_pages(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            html_pages(&path, into);
        } else if path.extension().is_some_and(|e| e == "html") {
            into.push(path);
        }
    }
}

/// Where screenshots are kept: `<target>/test-artifacts/`.
fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let dir = target.join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A static file server on 127.0.0.1 for the site; records the paths it was asked for.
fn serve(root: PathBuf) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requested = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&requested);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            if BufReader::new(&stream).read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let path = path.split(['?', '#']).next().unwrap_or("/").to_string();
            log.lock().unwrap().push(path.clone());
            let relative = path.trim_start_matches('/');
            let file = root.join(if relative.is_empty() {
                "index.html"
            } else {
                relative
            });
            let safe = !relative.split('/').any(|part| part == "..");
            let (status, body) = match std::fs::read(&file) {
                Ok(body) if safe => ("200 OK", body),
                _ => ("404 Not Found", b"not found".to_vec()),
            };
            let content_type = match file.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("css") => "text/css; charset=utf-8",
                Some("js") => "text/javascript; charset=utf-8",
                _ => "application/octet-stream",
            };
            let header = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(header.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (port, requested)
}

#[test]
fn site_works_in_a_browser() {
    let Some(chromium) = chromium() else { return };
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let index = xtask::build_site(&xtask::fs::repo_root(), &site).unwrap();
    assert!(index.exists());

    // a. Every page, after its JS ran: internal links resolve, anchors exist, copy buttons added.
    let mut pages = Vec::new();
    html_pages(&site, &mut pages);
    pages.sort();
    // Every guide is a page, so the link and anchor checks below cover it too.
    for guide in xtask::guide_files(&xtask::fs::repo_root()).unwrap() {
        let stem = Path::new(&guide).file_stem().unwrap().to_str().unwrap();
        let page = site.join("guides").join(format!("{stem}.html"));
        assert!(pages.contains(&page), "{guide}: no {}", page.display());
    }
    let doms: BTreeMap<PathBuf, String> = std::thread::scope(|scope| {
        // At most two browsers at once: CI has two cores.
        let halves: Vec<_> = pages
            .chunks(pages.len().div_ceil(2))
            .map(|chunk| {
                let chromium = &chromium;
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|page| {
                            let url = format!("file://{}", page.display());
                            (page.clone(), dump_dom(chromium, &url))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        halves.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let mut checked_links = 0;
    let mut problems = Vec::new();
    for (page, dom) in &doms {
        assert!(dom.contains("</html>"), "{}: no DOM dumped", page.display());
        let tags = tags(dom);
        if tags.iter().any(|(name, _)| name == "pre") {
            let has_copy = tags.iter().any(|(name, attrs)| {
                name == "button"
                    && attrs
                        .get("class")
                        .is_some_and(|c| c.contains("copy-button"))
            });
            if !has_copy {
                problems.push(format!(
                    "{}: code blocks but no copy button",
                    page.display()
                ));
            }
        }
        for (_, attrs) in &tags {
            let Some(href) = attrs.get("href") else {
                continue;
            };
            if href.starts_with("http://")
                || href.starts_with("https://")
                || href.starts_with("mailto:")
            {
                continue;
            }
            let (path, fragment) = match href.split_once('#') {
                Some((path, fragment)) => (path, Some(fragment)),
                None => (href.as_str(), None),
            };
            let path = path.split('?').next().unwrap_or(path);
            let target = if let Some(absolute) = path.strip_prefix("file://") {
                PathBuf::from(absolute)
            } else if path.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(path)
            };
            let Ok(target) = target.canonicalize() else {
                problems.push(format!("{}: broken link {href}", page.display()));
                continue;
            };
            checked_links += 1;
            if let Some(fragment) = fragment.filter(|f| !f.is_empty()) {
                let target_dom = doms
                    .iter()
                    .find(|(p, _)| p.canonicalize().ok().as_ref() == Some(&target))
                    .map(|(_, dom)| dom);
                match target_dom {
                    Some(dom) if ids(dom).contains(fragment) => {}
                    Some(_) => {
                        problems.push(format!("{}: no #{fragment} for {href}", page.display()))
                    }
                    None => problems.push(format!("{}: {href} is not a site page", page.display())),
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(checked_links > 1000, "only {checked_links} links checked");

    // b. Search from the query string: "ban" ranks ban_user first, then unban_user; "MCP" finds
    // the MCP guide, first.
    let search = |query: &str| -> Vec<String> {
        let dom = dump_dom(&chromium, &format!("file://{}?q={query}", index.display()));
        tags(&dom)
            .into_iter()
            .filter(|(name, attrs)| {
                name == "a"
                    && attrs
                        .get("class")
                        .is_some_and(|c| c.contains("search-result"))
            })
            .filter_map(|(_, attrs)| attrs.get("href").cloned())
            .collect()
    };
    let mcp = search("MCP");
    assert!(
        mcp.first().is_some_and(|r| r.ends_with("guides/mcp.html")),
        "search results for MCP: {mcp:?}"
    );
    let results = search("ban");
    assert!(
        results
            .first()
            .is_some_and(|r| r.ends_with("clerk/functions/ban_user.html")),
        "search results for ban: {results:?}"
    );
    assert!(
        results
            .iter()
            .any(|r| r.ends_with("clerk/functions/unban_user.html"))
    );
    // Every word must match somewhere, as docs.search: a summary's words, in any order, and a
    // plural for a singular name.
    for (query, first) in [
        ("magic%20link", "clerk/functions/create_sign_token.html"),
        (
            "metadata%20organizations",
            "clerk/functions/update_organization_metadata.html",
        ),
    ] {
        let results = search(query);
        assert!(
            results.first().is_some_and(|r| r.ends_with(first)),
            "search results for {query}: {results:?}"
        );
    }
    assert!(search("magic%20zebra").is_empty());

    // The sidebar of a function's page: its family open, with its functions and family page.
    let dom = &doms[&site.join("clerk/functions/ban_user.html")];
    let open: Vec<&str> = dom
        .match_indices("<details class=\"sidebar-family\" open=\"\">")
        .map(|(at, _)| &dom[at..at + dom[at..].find("</details>").unwrap()])
        .collect();
    assert_eq!(open.len(), 1, "one family open");
    assert!(open[0].contains("<summary>Users "), "{}", open[0]);
    assert!(open[0].contains("families/users.html"));

    // c. Over HTTP from 127.0.0.1: the page loads its CSS and JS, and the JS runs.
    let (port, requested) = serve(site.clone());
    let dom = dump_dom(
        &chromium,
        &format!("http://127.0.0.1:{port}/clerk/functions/ban_user.html"),
    );
    assert!(dom.contains("copy-button"), "JS did not run over HTTP");
    let requested = requested.lock().unwrap().clone();
    for asset in [
        "/assets/site.css",
        "/assets/site.js",
        "/assets/search-index.js",
    ] {
        assert!(
            requested.iter().any(|r| r == asset),
            "{asset} not requested: {requested:?}"
        );
    }

    // d. Screenshots of the integration page, desktop and phone, kept for people to look at.
    let artifacts = artifacts_dir();
    let page = format!("file://{}", site.join("clerk/index.html").display());
    for (name, size) in [
        ("site-desktop.png", "1280,900"),
        ("site-phone.png", "390,844"),
    ] {
        let shot = artifacts.join(name);
        let _ = std::fs::remove_file(&shot);
        run_chromium(
            &chromium,
            &[
                format!("--screenshot={}", shot.display()),
                format!("--window-size={size}"),
                "--hide-scrollbars".to_string(),
                "--virtual-time-budget=3000".to_string(),
                page.clone(),
            ],
        );
        let bytes = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(bytes > 10_000, "{} is {bytes} bytes", shot.display());
        eprintln!("screenshot: {}", shot.display());
    }
}

#[test]
fn the_site_replaces_only_its_own_output() {
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    xtask::build_site(&xtask::fs::repo_root(), &site).unwrap();
    assert!(site.join(xtask::SITE_MARKER).is_file());
    // A rebuild replaces the folder: a stale page does not survive.
    std::fs::write(site.join("stale.html"), "old").unwrap();
    xtask::build_site(&xtask::fs::repo_root(), &site).unwrap();
    assert!(!site.join("stale.html").exists());
    // Every catalog entry's docs_url is a page of the site.
    let catalog: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(xtask::fs::repo_root().join("generated/docs/clerk/catalog.json"))
            .unwrap(),
    )
    .unwrap();
    for entry in catalog["functions"].as_array().unwrap() {
        let url = entry["docs_url"].as_str().unwrap();
        assert!(site.join(url).is_file(), "{url}");
    }
    // A folder it did not build is never deleted.
    let foreign = out.path().join("notes");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("keep.txt"), "mine").unwrap();
    let error = xtask::build_site(&xtask::fs::repo_root(), &foreign)
        .unwrap_err()
        .to_string();
    assert!(error.contains("refusing to replace"), "{error}");
    assert_eq!(
        std::fs::read_to_string(foreign.join("keep.txt")).unwrap(),
        "mine"
    );
}
