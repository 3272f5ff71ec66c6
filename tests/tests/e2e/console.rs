//! README, "The console": the page and its files as HTTP serves them, and the console at work
//! in a real browser (headless Chromium driven by Selenium, `tests/browser/console.py`).

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::paths::workspace;
use crate::support::{runtime, Runtime, Server};

/// The page's script and style URLs, as the page names them.
fn assets(page: &str) -> Vec<String> {
    page.split('"')
        .filter(|s| s.starts_with("/console/"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_page_and_its_files_are_served_with_their_types_tags_and_policy() {
    let s = Server::start();
    for path in ["/", "/console/", "/console"] {
        let r = s.get(path);
        r.expect(200);
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(r.header("cache-control"), Some("no-cache"));
        let csp = r.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        // Nothing from elsewhere: no URL with a host, no inline script or style.
        let page = r.text();
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "{page}"
        );
        assert!(
            !page.contains("<style") && !page.contains("<script>"),
            "{page}"
        );
    }
    let page = s.get("/").text();
    let files = assets(&page);
    assert_eq!(files.len(), 3, "{files:?}");
    for (file, ty) in files
        .iter()
        .zip(["image/svg+xml", "text/css", "text/javascript"])
    {
        let r = s.get(file);
        r.expect(200);
        assert!(r.header("content-type").unwrap().starts_with(ty), "{file}");
        assert_eq!(
            r.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        let tag = r.header("etag").unwrap().to_string();
        // Named by its content: the tag is in the name.
        assert!(file.contains(tag.trim_matches('"')), "{file} {tag}");
        let again = s.send("GET", file, &[("If-None-Match", &tag)], None);
        again.expect_empty(304);
        assert_eq!(again.header("etag"), Some(tag.as_str()));
        let head = s.send("HEAD", file, &[], None);
        head.expect_empty(200);
    }
    let tag = s.get("/").header("etag").unwrap().to_string();
    s.send("GET", "/", &[("If-None-Match", &tag)], None)
        .expect_empty(304);
    // A stale name, another file, another method.
    s.get("/console/console.0000000000000000.js")
        .expect_empty(404);
    s.get("/console/x/y").expect_empty(404);
    let r = s.send("DELETE", "/", &[], None);
    r.expect(405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
}

/// A short WAV (8 kHz, 16-bit mono, a 440 Hz tone) for the audio player.
fn wav(seconds: u32) -> Vec<u8> {
    let rate = 8000u32;
    let samples: Vec<i16> = (0..rate * seconds)
        .map(|i| {
            let t = f64::from(i) / f64::from(rate);
            ((t * 440.0 * std::f64::consts::TAU).sin() * 8000.0) as i16
        })
        .collect();
    let data_len = samples.len() as u32 * 2;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// What the browser test finds: 30 users (one with a voicemail), an agent, a queue, a
/// running campaign on it with a recording that has audio.
fn seed(s: &Server) -> Value {
    for i in 0..29 {
        s.post(
            "/1.0/users/",
            &json!({"firstname": format!("User{i:02}"), "lastname": "Dupont"}),
        )
        .expect(201);
    }
    let vm = s
        .post(
            "/1.0/voicemails/",
            &json!({"mailbox": "8000", "fullname": "Ann Martin"}),
        )
        .json()["id"]
        .clone();
    let with_voicemail = s
        .post(
            "/1.0/users/",
            &json!({"firstname": "Ann", "lastname": "Martin", "voicemailid": vm}),
        )
        .json()["id"]
        .clone();
    s.post(
        "/1.0/CallCenter/agents/",
        &json!({"firstname": "Agent", "lastname": "Smith", "number": "1000", "context": "default"}),
    )
    .expect(201);
    let queue = s
        .post(
            "/1.0/CallCenter/queues/",
            &json!({"name": "support", "displayname": "Support", "number": "3000"}),
        )
        .json()["id"]
        .clone();
    let today = chrono_today(s);
    let r = s.post(
        "/1.0/recording_campaigns/",
        &json!({"campaign_name": "Support calls", "activated": true, "base_filename": "support",
                "queue_id": queue, "start_date": today.0, "end_date": today.1}),
    );
    r.expect(201);
    let campaign = r.json();
    s.post(
        &format!("/1.0/recording_campaigns/{campaign}/"),
        &json!({"cid": "call-1", "agent_no": "1000", "caller": "0231000001",
                "start_time": "2013-05-28 16:05:59", "end_time": "2013-05-28 16:07:00"}),
    )
    .expect(201);
    s.send(
        "PUT",
        &format!("/1.0/recording_campaigns/{campaign}/call-1/audio"),
        &[("Content-Type", "audio/wav")],
        Some(&wav(3)),
    )
    .expect(201);
    json!({"campaign": campaign, "user_with_voicemail": with_voicemail, "queue": queue})
}

/// Yesterday and a month from now, as the API writes dates (so the campaign runs).
fn chrono_today(s: &Server) -> (String, String) {
    s.sql()
        .query_row(
            "SELECT date('now', '-1 day'), date('now', '+30 days')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

/// Chromium and its driver, and a Python with Selenium (`BROWSER_PYTHON`; `.ci/run` makes
/// one): the browser test runs the console in them. Without them it is listed as not run
/// (`testhost::skips`), or fails under `E2E_REQUIRE_ALL=1`.
#[test]
fn the_console_works_in_a_real_browser() {
    let Some(python) = testhost::skips::named_tool(
        "BROWSER_PYTHON",
        "a Python with selenium (see .ci/run)",
        &workspace(),
    ) else {
        return;
    };
    let s = Server::start();
    let seeded = seed(&s);
    let shots: PathBuf = workspace()
        .join("target")
        .join("console")
        .join(match runtime() {
            Runtime::TestHost => "testhost",
            Runtime::Spin(_) => "spin",
        });
    std::fs::create_dir_all(&shots).unwrap();
    let output = std::process::Command::new(python)
        .arg(workspace().join("tests/browser/console.py"))
        .arg(s.url(""))
        .arg(&shots)
        .arg(seeded.to_string())
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{report}");
    assert!(
        output.status.success(),
        "the browser test failed:\n{report}"
    );
    for name in [
        "users",
        "user",
        "campaigns",
        "campaign-errors",
        "recordings",
        "users-phone",
    ] {
        let png = std::fs::read(shots.join(format!("{name}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{name}.png");
    }
    // What the browser did reached the database: the new user, edited; the user with a
    // voicemail deleted with it.
    let users = s.get("/1.0/users/").json();
    let names: Vec<&str> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["lastname"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Testeur-Edited"), "{names:?}");
    assert!(!names.contains(&"Martin"), "{names:?}");
    assert_eq!(s.get("/1.0/voicemails/").json()["total"], 0);
    let campaign = &seeded["campaign"];
    let recordings = s
        .get(&format!("/1.0/recording_campaigns/{campaign}/"))
        .json();
    assert_eq!(recordings["total"], 0);
}
