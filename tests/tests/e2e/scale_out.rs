//! README, "Scaling out": two instances of the app (two test-host servers, or two `spin up`)
//! over one libSQL server and one Redis server, clients spread over both, each instance with
//! the runtime config SpinKube's operator renders from `deploy/spinkube` (`spinkube.rs`). The
//! race rules hold across instances, concurrent writers lose nothing, a fresh server is
//! migrated once, and audio uploaded at one instance is served, replaced and deleted at the
//! other. And one instance's memo of the server's schema (in the key-value store) saves its
//! writes a round trip without trusting a schema that is behind.
//!
//! These run whenever a sqld (`SQLD`, `sqld` on the `PATH`, `../shared/bin/sqld`) and a
//! redis-server (`REDIS_SERVER`, `redis-server` on the `PATH`) are found, whatever
//! `E2E_DATABASE` and `E2E_KEY_VALUE` say; without them they are listed as not run
//! (`testhost::skips`).

use std::io::{Read, Write};

use serde_json::{json, Value};

use crate::audio::{audio_bytes, recording_campaign, sha256, CHUNK};
use crate::campaigns::queue;
use crate::client::{send, Response};
use crate::paths::workspace;
use crate::spinkube::rendered_runtime_config;
use crate::stores::{fresh_key_value, fresh_redis, fresh_sqld, redis_binary, sqld_binary};
use crate::support::{unix_now, Server};

/// Two instances over one fresh sqld and one fresh Redis, or `None` (and why, on stderr)
/// without them.
fn two_instances() -> Option<[Server; 2]> {
    if sqld_binary().is_none() || redis_binary().is_none() {
        testhost::skips::missing(
            "no sqld or no redis-server (set SQLD and REDIS_SERVER, or put them on the PATH)",
        );
        return None;
    }
    let db = fresh_sqld();
    let key_value = fresh_redis();
    let runtime_config = rendered_runtime_config(&db.config(), &key_value.store);
    let instance = || {
        Server::start_with(|c| {
            c.with_database(&db)
                .with_key_value(&key_value)
                .with_runtime_config(&runtime_config)
        })
    };
    Some([instance(), instance()])
}

/// `n` requests at once, the `i`-th to instance `i % 2`, made by `request(i)`: (method, path,
/// JSON body). Their responses, in order.
fn spread(
    instances: &[Server; 2],
    n: usize,
    request: impl Fn(usize) -> (&'static str, String, Option<Value>),
) -> Vec<Response> {
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let addr = instances[i % 2].addr;
            let (method, path, body) = request(i);
            std::thread::spawn(move || {
                let body = body.map(|b| serde_json::to_vec(&b).unwrap());
                let headers: &[(&str, &str)] = match body {
                    Some(_) => &[("Content-Type", "application/json")],
                    None => &[],
                };
                send(addr, method, &path, headers, body.as_deref())
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn statuses(responses: &[Response]) -> Vec<u16> {
    responses.iter().map(|r| r.status).collect()
}

#[test]
fn a_fresh_server_is_migrated_once_by_racing_instances() {
    let Some(both) = two_instances() else { return };
    let paths = [
        "/1.0/users/",
        "/1.0/voicemails/",
        "/1.0/CallCenter/queues/",
        "/1.0/recording_campaigns/",
    ];
    // Every instance's first requests, at once: each component finds the schema missing.
    let r = spread(&both, 24, |i| {
        ("GET", paths[i % paths.len()].to_string(), None)
    });
    assert!(r.iter().all(|r| r.status == 200), "{:?}", statuses(&r));
    assert_eq!(
        user_version(&both[0]),
        migrations(),
        "every migration applied, once"
    );
    // A migration applied twice would have failed (its CREATE TABLE on a table that exists)
    // and answered 500 above; both instances now write to the one schema.
    both[0]
        .post("/1.0/users/", &json!({"firstname": "A"}))
        .expect(201);
    both[1]
        .post("/1.0/users/", &json!({"firstname": "B"}))
        .expect(201);
    assert_eq!(both[0].get("/1.0/users/").json()["total"], 2);
}

#[test]
fn of_24_clients_for_one_mailbox_one_gets_it() {
    let Some(both) = two_instances() else { return };
    let r = spread(&both, 24, |_| {
        (
            "POST",
            "/1.0/voicemails/".into(),
            Some(json!({"mailbox": "100"})),
        )
    });
    let created = r.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 1, "{:?}", statuses(&r));
    for refused in r.iter().filter(|r| r.status != 201) {
        refused.expect_error(400, &["Incorrect parameters sent: mailbox"]);
    }
    for s in &both {
        assert_eq!(s.get("/1.0/voicemails/").json()["total"], 1);
    }
}

#[test]
fn of_24_overlapping_campaigns_on_one_queue_one_is_created() {
    let Some(both) = two_instances() else { return };
    let q = queue(&both[0], "q", "1");
    let r = spread(&both, 24, |i| {
        (
            "POST",
            "/1.0/recording_campaigns/".into(),
            Some(json!({"campaign_name": format!("c{i}"), "activated": true,
                "base_filename": "f", "queue_id": q,
                "start_date": format!("2013-01-{:02}", 1 + i), "end_date": "2013-02-28"})),
        )
    });
    let created = r.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 1, "{:?}", statuses(&r));
    assert!(
        r.iter().all(|r| r.status == 201 || r.status == 400),
        "{:?}",
        statuses(&r)
    );
    for s in &both {
        assert_eq!(s.get("/1.0/recording_campaigns/").json()["total"], 1);
    }
}

#[test]
fn writers_spread_over_two_instances_lose_nothing() {
    let Some(both) = two_instances() else { return };
    let r = spread(&both, 64, |i| {
        (
            "POST",
            "/1.0/users/".into(),
            Some(json!({"firstname": format!("w{i}"), "line": {"number": format!("{i}")}})),
        )
    });
    assert!(r.iter().all(|r| r.status == 201), "{:?}", statuses(&r));
    // Every acknowledged user is there, whole, as the other instance reads it.
    for (i, created) in r.iter().enumerate() {
        let id = created.json()["id"].as_i64().unwrap();
        let user = both[(i + 1) % 2].get(&format!("/1.0/users/{id}")).json();
        assert_eq!(user["firstname"], format!("w{i}"));
        assert_eq!(user["line"]["number"], format!("{i}"));
    }
    for s in &both {
        assert_eq!(s.get("/1.0/users/").json()["total"], 64);
    }
}

/// Audio follows the fleet: uploaded at A, read whole and by range at B; replaced at B while
/// A is sending the old one (A's client gets the old audio, whole or cut short, never a mix);
/// deleted at B, gone at A, and from the store.
#[test]
fn audio_uploaded_at_one_instance_is_served_by_the_other() {
    let Some([a, b]) = two_instances() else {
        return;
    };
    let call = |method: &str, path: &str, body: Option<Value>| {
        let r = match body {
            Some(body) => a.send_json(method, path, &body),
            None => a.send(method, path, &[], None),
        };
        (r.status, r.json_or_null())
    };
    let campaign = recording_campaign(call);
    let path = format!("/1.0/recording_campaigns/{campaign}/r1/audio");
    let put = |s: &Server, bytes: &[u8]| {
        s.send("PUT", &path, &[("Content-Type", "audio/wav")], Some(bytes))
    };

    let old = audio_bytes(8 * CHUNK + 5, 21);
    put(&a, &old).expect(201);
    let r = b.get(&path);
    r.expect(200);
    assert!(r.body == old, "B serves what A stored");
    let range = format!("bytes={}-{}", CHUNK - 3, 2 * CHUNK + 3);
    let r = b.send("GET", &path, &[("Range", &range)], None);
    r.expect(206);
    assert!(r.body == old[CHUNK - 3..=2 * CHUNK + 3]);

    // A starts sending the old audio to a client that reads slowly; B replaces it meanwhile.
    let mut slow = crate::client::connect(a.addr);
    write!(
        slow,
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        a.addr
    )
    .unwrap();
    let mut first = vec![0; 64 << 10];
    slow.read_exact(&mut first).unwrap();
    let new = audio_bytes(CHUNK / 3, 22);
    put(&b, &new).expect(200);
    let mut rest = Vec::new();
    // Cut short or whole: either way the connection ends.
    let _ = slow.read_to_end(&mut rest);
    first.extend_from_slice(&rest);
    let head_end = first.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let sent = &first[head_end..];
    assert!(
        !sent.is_empty() && sent.len() <= old.len() && sent == &old[..sent.len()],
        "A's client got {} bytes that are not the old audio's first",
        sent.len()
    );
    let r = a.get(&path);
    r.expect(200);
    assert!(r.body == new, "A serves the replacement");
    let etag = format!("\"{}\"", sha256(&new));
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert_eq!(
        b.key_value.keys("audio/").len(),
        1,
        "the old chunks are gone"
    );

    b.delete(&path).expect(200);
    a.get(&path).expect_empty(404);
    assert!(a.key_value.keys("audio/").is_empty());
}

/// One instance over a fresh sqld and a key-value store of its own, with `memo` as the schema
/// memo (`components/common/src/schema_memo.rs`) before it starts; `None` without sqld.
fn remembering(memo: Option<String>) -> Option<Server> {
    if sqld_binary().is_none() {
        testhost::skips::missing("no sqld (set SQLD, or put sqld on the PATH)");
        return None;
    }
    let db = fresh_sqld();
    let key_value = fresh_key_value();
    if let Some(memo) = memo {
        key_value.set(SCHEMA_MEMO, memo.as_bytes());
    }
    Some(Server::start_with(|c| {
        c.with_database(&db).with_key_value(&key_value)
    }))
}

const SCHEMA_MEMO: &str = "schema/user_version";

fn migrations() -> usize {
    std::fs::read_dir(workspace().join("migrations"))
        .unwrap()
        .count()
}

fn user_version(s: &Server) -> usize {
    s.sql()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// A write on a server remembers the schema current in the key-value store, so that the next
/// writes skip `PRAGMA user_version` (a round trip each) for a minute.
#[test]
fn a_write_on_a_server_remembers_the_schema_current() {
    let Some(s) = remembering(None) else { return };
    s.post("/1.0/users/", &json!({"firstname": "Ada"}))
        .expect(201);
    let memo = s.key_value.get(SCHEMA_MEMO).expect("the schema remembered");
    let memo = String::from_utf8(memo).unwrap();
    let (version, at) = memo.split_once(' ').unwrap();
    assert_eq!(version.parse::<usize>().unwrap(), migrations(), "{memo}");
    assert!(unix_now().abs_diff(at.parse().unwrap()) < 60, "{memo}");
}

/// A memo that says current over a database that is not (a fresh one, or an older backup
/// restored): the first statement that misses a table brings the schema up to date, and the
/// write lands.
#[test]
fn a_schema_remembered_current_but_behind_is_brought_up_to_date() {
    let memo = format!("{} {}", migrations(), unix_now());
    let Some(s) = remembering(Some(memo)) else {
        return;
    };
    assert_eq!(user_version(&s), 0, "nothing migrated yet");
    let created = s.post("/1.0/users/", &json!({"firstname": "Ada"}));
    created.expect(201);
    assert_eq!(user_version(&s), migrations());
    let id = created.json()["id"].as_i64().unwrap();
    assert_eq!(
        s.get(&format!("/1.0/users/{id}")).json()["firstname"],
        "Ada"
    );
}

/// A memo older than a minute is not trusted: the write asks the server, and remembers anew.
#[test]
fn a_stale_memo_is_checked_again() {
    let stale = format!("{} {}", migrations(), unix_now() - 120);
    let Some(s) = remembering(Some(stale.clone())) else {
        return;
    };
    s.post("/1.0/users/", &json!({"firstname": "Ada"}))
        .expect(201);
    let memo = String::from_utf8(s.key_value.get(SCHEMA_MEMO).unwrap()).unwrap();
    assert_ne!(memo, stale, "remembered anew");
}
