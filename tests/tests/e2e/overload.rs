//! README, "Overload and request ids": many clients writing at once. Each write is answered
//! 201, or 503 with `Retry-After` when it could not get the write lock in time; never 500,
//! never nothing. Every acknowledged write is stored, and no refused one. How fast is the
//! benchmark's business (`cargo bench -p testhost`, "Overload"); this test holds the rules.

use std::collections::HashMap;
use std::sync::{Arc, Barrier};

use serde_json::json;

use crate::support::Server;

const WRITERS: usize = 64;
const WRITES_EACH: usize = 6;

#[test]
fn sixty_four_writers_get_no_500_and_lose_nothing() {
    // A short wait for the lock, so that some writes are refused and both answers are seen.
    let s = Arc::new(Server::start_with(|c| {
        c.with_variable("db_lock_timeout_ms", "150")
    }));
    let start = Arc::new(Barrier::new(WRITERS));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (s, start) = (s.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                (0..WRITES_EACH)
                    .map(|n| {
                        let name = format!("w{w}-{n}");
                        let r = s.post(
                            "/1.0/users/",
                            &json!({"firstname": "Load", "lastname": name}),
                        );
                        let retry_after = r.header("retry-after").map(str::to_string);
                        (name, r.status, r.json_or_null(), retry_after)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let answers: Vec<_> = writers
        .into_iter()
        .flat_map(|w| w.join().expect("a writer panicked (no answer?)"))
        .collect();

    let stored: HashMap<String, i64> = s.get("/1.0/users/").json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["lastname"].as_str().unwrap().to_string(),
                u["id"].as_i64().unwrap(),
            )
        })
        .collect();
    let (mut acknowledged, mut refused) = (0, 0);
    for (name, status, body, retry_after) in &answers {
        match status {
            201 => {
                acknowledged += 1;
                assert_eq!(
                    stored.get(name),
                    body["id"].as_i64().as_ref(),
                    "{name} was acknowledged as {body}, and is not stored so"
                );
            }
            503 => {
                refused += 1;
                assert!(retry_after.is_some(), "503 without Retry-After for {name}");
                assert_eq!(body, &json!(["Service busy, try again"]), "{name}");
                assert!(
                    !stored.contains_key(name),
                    "{name} was refused, and is stored"
                );
            }
            other => panic!("{name}: {other} {body}"),
        }
    }
    assert_eq!(acknowledged + refused, WRITERS * WRITES_EACH);
    assert_eq!(
        stored.len(),
        acknowledged,
        "stored users that no one was told of"
    );
    assert!(acknowledged > 0, "no write got through");
    eprintln!("{acknowledged} acknowledged, {refused} refused (503)");
}
