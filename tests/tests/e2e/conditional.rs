//! Conditional requests: `ETag` on every resource with an id, `If-Match` on PUT and DELETE,
//! `If-None-Match` on GET (README, "Conditional requests").

use serde_json::{json, Value};

use crate::client::Response;
use crate::support::Server;

const JSON: (&str, &str) = ("Content-Type", "application/json");
const CHANGED: &str = "Precondition failed: the resource has changed";

fn etag(r: &Response) -> String {
    r.header("etag")
        .unwrap_or_else(|| panic!("no ETag: {} {}", r.status, r.text()))
        .to_string()
}

fn put_if(s: &Server, path: &str, tag: &str, body: &Value) -> Response {
    let body = serde_json::to_vec(body).unwrap();
    s.send("PUT", path, &[JSON, ("If-Match", tag)], Some(&body))
}

fn get_if_none(s: &Server, path: &str, tag: &str) -> Response {
    s.send("GET", path, &[("If-None-Match", tag)], None)
}

/// The one a 2013 client cannot get: two administrators edit the same user from the same
/// read; exactly one wins, the other is told, and the stored user is the winner's.
#[test]
fn a_lost_update_is_prevented() {
    let s = Server::start();
    let created = s.post("/1.0/users/", &json!({"firstname": "Ann"}));
    let path = format!("/1.0/users/{}", created.json()["id"]);
    let tag = etag(&s.get(&path));
    let addr = s.addr;
    let answers: Vec<(String, u16)> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..8)
            .map(|i| {
                let (path, tag) = (path.clone(), tag.clone());
                scope.spawn(move || {
                    let name = format!("writer{i}");
                    let body = serde_json::to_vec(&json!({ "firstname": name })).unwrap();
                    let r = crate::client::send(
                        addr,
                        "PUT",
                        &path,
                        &[JSON, ("If-Match", &tag)],
                        Some(&body),
                    );
                    if r.status == 412 {
                        assert_eq!(r.json(), json!([CHANGED]));
                    }
                    (name, r.status)
                })
            })
            .collect();
        writers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let winners: Vec<&String> = answers
        .iter()
        .filter(|(_, status)| *status == 200)
        .map(|(name, _)| name)
        .collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    assert!(answers.iter().all(|(_, st)| *st == 200 || *st == 412));
    assert_eq!(s.get(&path).json()["firstname"], json!(winners[0]));
}

#[test]
fn every_family_tags_its_items_and_honours_if_match() {
    let s = Server::start();
    for (collection, body, change) in [
        (
            "/1.0/users/",
            json!({"firstname": "A"}),
            json!({"firstname": "B"}),
        ),
        (
            "/1.0/voicemails/",
            json!({"mailbox": "100"}),
            json!({"fullname": "X"}),
        ),
        (
            "/1.0/CallCenter/agents/",
            json!({"number": "200"}),
            json!({"firstname": "Y"}),
        ),
        (
            "/1.0/CallCenter/queues/",
            json!({"name": "q"}),
            json!({"displayname": "Z"}),
        ),
    ] {
        let created = s.post(collection, &body);
        created.expect(201);
        let path = format!("{collection}{}", created.json()["id"]);
        let first = etag(&created);
        assert_eq!(etag(&s.get(&path)), first, "{path}");

        // A stale or foreign tag changes nothing.
        put_if(&s, &path, "\"999\"", &change).expect_error(412, &[CHANGED]);
        put_if(&s, &path, &format!("W/{first}"), &change).expect_error(412, &[CHANGED]);
        assert_eq!(etag(&s.get(&path)), first);

        let updated = put_if(&s, &path, &format!("\"999\", {first}"), &change);
        updated.expect(200);
        let second = etag(&updated);
        assert_ne!(second, first);
        assert_eq!(etag(&s.get(&path)), second);

        let r = s.send("DELETE", &path, &[("If-Match", &first)], None);
        r.expect_error(412, &[CHANGED]);
        s.get(&path).expect(200);
        s.send("DELETE", &path, &[("If-Match", &second)], None)
            .expect(200);
        s.get(&path).expect_empty(404);
        // No current representation: `If-Match` fails, even `*` (RFC 9110, 13.1.1).
        let r = s.send("DELETE", &path, &[("If-Match", "*")], None);
        r.expect_error(412, &[CHANGED]);
    }
}

#[test]
fn if_none_match_gives_304_while_the_copy_is_current() {
    let s = Server::start();
    let created = s.post("/1.0/users/", &json!({"firstname": "Ann"}));
    let path = format!("/1.0/users/{}", created.json()["id"]);
    let tag = etag(&created);
    for header in [
        tag.clone(),
        format!("W/{tag}"),
        format!("\"0\", {tag}"),
        "*".into(),
    ] {
        let r = get_if_none(&s, &path, &header);
        r.expect_empty(304);
        assert_eq!(r.header("etag"), Some(tag.as_str()));
    }
    get_if_none(&s, &path, "\"0\"").expect(200);
    s.put(&path, &json!({"lastname": "Lee"})).expect(200);
    let r = get_if_none(&s, &path, &tag);
    r.expect(200);
    assert_eq!(r.json()["lastname"], "Lee");
    assert_ne!(etag(&r), tag);
}

#[test]
fn star_and_no_header_behave_as_before() {
    let s = Server::start();
    let created = s.post("/1.0/voicemails/", &json!({"mailbox": "1"}));
    let path = format!("/1.0/voicemails/{}", created.json()["id"]);
    put_if(&s, &path, "*", &json!({"password": "1"})).expect(200);
    // Without the header, as a 2013 client: no precondition.
    s.put(&path, &json!({"password": "2"})).expect(200);
    s.delete(&path).expect(200);
    put_if(&s, &path, "*", &json!({"password": "3"})).expect_error(412, &[CHANGED]);
    s.put(&path, &json!({"password": "3"})).expect_empty(404);
}

#[test]
fn a_put_that_changes_nothing_keeps_the_tag() {
    let s = Server::start();
    let created = s.post(
        "/1.0/CallCenter/queues/",
        &json!({"name": "q", "waitratio": 0.5}),
    );
    let path = format!("/1.0/CallCenter/queues/{}", created.json()["id"]);
    let tag = etag(&created);
    let r = s.put(&path, &json!({"name": "q", "waitratio": 0.5}));
    assert_eq!(etag(&r), tag);
    let r = s.put(&path, &json!({"waitratio": 0.75}));
    assert_ne!(etag(&r), tag);
}

#[test]
fn campaigns_and_recordings_have_tags_too() {
    let s = Server::start();
    s.post("/1.0/CallCenter/agents/", &json!({"number": "1000"}))
        .expect(201);
    let id = s
        .post(
            "/1.0/recording_campaigns/",
            &json!({"campaign_name": "c", "activated": true, "base_filename": "f"}),
        )
        .json();
    let campaign = format!("/1.0/recording_campaigns/{id}");
    let got = s.get(&campaign);
    assert_eq!(got.json()["total"], 1);
    let tag = etag(&got);
    get_if_none(&s, &campaign, &tag).expect_empty(304);
    let updated = put_if(&s, &campaign, &tag, &json!({"base_filename": "g"}));
    assert_eq!(updated.json(), json!(format!("Updated: {id}")));
    let second = etag(&updated);
    assert_ne!(second, tag);
    put_if(&s, &campaign, &tag, &json!({"base_filename": "h"})).expect_error(412, &[CHANGED]);

    s.post(
        &format!("{campaign}/"),
        &json!({"cid": "a.1", "agent_no": "1000", "caller": "0123"}),
    )
    .expect(201);
    let recording = format!("{campaign}/a.1");
    let got = s.get(&recording);
    assert_eq!(got.json()["cid"], "a.1");
    assert_eq!(got.json()["agent_no"], "1000");
    let rtag = etag(&got);
    get_if_none(&s, &recording, &rtag).expect_empty(304);
    s.send("DELETE", &recording, &[("If-Match", "\"0\"")], None)
        .expect_error(412, &[CHANGED]);
    s.send("DELETE", &recording, &[("If-Match", &rtag)], None)
        .expect(200);
    s.get(&recording).expect_empty(404);

    let r = s.send("DELETE", &campaign, &[("If-Match", &tag)], None);
    r.expect_error(412, &[CHANGED]);
    s.send("DELETE", &campaign, &[("If-Match", &second)], None)
        .expect(200);
}

/// A resource's tag changes with whatever the API shows of it, even when another resource's
/// write is what changed it.
#[test]
fn tags_follow_changes_made_through_other_resources() {
    let s = Server::start();
    // The voicemail's fullname follows its user's name.
    let vm = s
        .post("/1.0/voicemails/", &json!({"mailbox": "500"}))
        .json()["id"]
        .clone();
    let vm_path = format!("/1.0/voicemails/{vm}");
    let user = s.post("/1.0/users/", &json!({"voicemailid": vm})).json()["id"].clone();
    let vm_tag = etag(&s.get(&vm_path));
    s.put(&format!("/1.0/users/{user}"), &json!({"firstname": "Bo"}))
        .expect(200);
    let r = get_if_none(&s, &vm_path, &vm_tag);
    assert_eq!(r.json()["fullname"], "Bo ");
    assert_ne!(etag(&r), vm_tag);

    // A user's line is part of the user.
    let user_path = format!("/1.0/users/{user}");
    let before = etag(&s.get(&user_path));
    let after = etag(&s.put(&user_path, &json!({"line": {"number": "44500"}})));
    assert_ne!(after, before);

    // A campaign shows its queue: renaming or deleting the queue changes the campaign.
    let queue = s
        .post(
            "/1.0/CallCenter/queues/",
            &json!({"name": "q1", "number": "3000"}),
        )
        .json()["id"]
        .clone();
    let id = s
        .post(
            "/1.0/recording_campaigns/",
            &json!({"campaign_name": "c", "activated": true, "base_filename": "f", "queue_id": queue}),
        )
        .json();
    let campaign = format!("/1.0/recording_campaigns/{id}");
    let t1 = etag(&s.get(&campaign));
    s.put(
        &format!("/1.0/CallCenter/queues/{queue}"),
        &json!({"displayname": "Queue one"}),
    )
    .expect(200);
    let got = s.get(&campaign);
    assert_eq!(got.json()["items"][0]["queue_display_name"], "Queue one");
    let t2 = etag(&got);
    assert_ne!(t2, t1);
    s.delete(&format!("/1.0/CallCenter/queues/{queue}"))
        .expect(200);
    let got = s.get(&campaign);
    assert_eq!(got.json()["items"][0]["queue_id"], Value::Null);
    assert_ne!(etag(&got), t2);

    // A recording shows its agent's number; a user loses a deleted agent.
    let agent = s
        .post("/1.0/CallCenter/agents/", &json!({"number": "1000"}))
        .json()["id"]
        .clone();
    s.post(
        &format!("{campaign}/"),
        &json!({"cid": "r1", "agent_id": agent}),
    )
    .expect(201);
    let recording = format!("{campaign}/r1");
    let r1 = etag(&s.get(&recording));
    s.put(
        &format!("/1.0/CallCenter/agents/{agent}"),
        &json!({"number": "1001"}),
    )
    .expect(200);
    let got = s.get(&recording);
    assert_eq!(got.json()["agent_no"], "1001");
    assert_ne!(etag(&got), r1);

    let other = s
        .post("/1.0/CallCenter/agents/", &json!({"number": "2000"}))
        .json()["id"]
        .clone();
    s.put(&user_path, &json!({"agentid": other})).expect(200);
    let u1 = etag(&s.get(&user_path));
    s.delete(&format!("/1.0/CallCenter/agents/{other}"))
        .expect(200);
    let got = s.get(&user_path);
    assert_eq!(got.json()["agentid"], Value::Null);
    assert_ne!(etag(&got), u1);
}

/// Without `If-Match`, edits of one user at once all land, one after the other, each over the
/// user as the one before left it (a write is read, checked, then written guarded by the
/// version it read, and read again when another came in between): 16 edits of different keys
/// leave every key set, and the version grew by one for each.
#[test]
fn edits_of_one_user_at_once_all_land() {
    let s = Server::start();
    let id = s.post("/1.0/users/", &json!({})).json()["id"].clone();
    let path = format!("/1.0/users/{id}");
    let keys = [
        "firstname",
        "lastname",
        "callerid",
        "username",
        "password",
        "musiconhold",
        "outcallerid",
        "mobilephonenumber",
        "userfield",
        "timezone",
        "language",
        "description",
    ];
    let addr = s.addr;
    let edits: Vec<_> = (0..16)
        .map(|i| {
            let (key, path) = (keys[i % keys.len()], path.clone());
            std::thread::spawn(move || {
                let body = serde_json::to_vec(&json!({ key: format!("v{i}") })).unwrap();
                crate::client::send(addr, "PUT", &path, &[JSON], Some(&body))
            })
        })
        .collect();
    for edit in edits {
        edit.join().unwrap().expect(200);
    }
    let user = s.get(&path);
    for (i, key) in keys.iter().enumerate() {
        let last = (i..16).step_by(keys.len()).collect::<Vec<_>>();
        let possible: Vec<String> = last.iter().map(|n| format!("v{n}")).collect();
        assert!(
            possible.contains(&user.json()[key].as_str().unwrap().to_string()),
            "{key}: {}",
            user.json()[key]
        );
    }
    assert_eq!(etag(&user), "\"17\"");
}
