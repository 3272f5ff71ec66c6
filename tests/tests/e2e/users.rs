//! API.md, "Users".

use crate::support::Server;
use serde_json::{json, Value};

fn create(s: &Server, body: Value) -> Value {
    let r = s.post("/1.0/users/", &body);
    r.expect(201);
    r.json()
}

/// A voicemail straight into the database (the users tests do not depend on another component).
fn voicemail(s: &Server, mailbox: &str) -> i64 {
    s.get("/1.0/users/").expect(200); // the first request creates the schema
    s.sql()
        .query_row(
            "INSERT INTO voicemails (mailbox, fullname) VALUES (?1, 'Old Name') RETURNING id",
            [mailbox],
            |r| r.get(0),
        )
        .unwrap()
}

fn voicemail_fullname(s: &Server, id: i64) -> Option<String> {
    s.sql()
        .query_row("SELECT fullname FROM voicemails WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .ok()
}

#[test]
fn empty_list_at_both_paths() {
    let s = Server::start();
    for path in ["/1.0/users", "/1.0/users/"] {
        let r = s.get(path);
        r.expect(200);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.json(), json!({"total": 0, "items": []}));
    }
}

#[test]
fn create_defaults_and_location() {
    let s = Server::start();
    let r = s.post("/1.0/users/", &json!({}));
    r.expect(201);
    let user = r.json();
    let id = user["id"].as_i64().unwrap();
    assert_eq!(
        r.header("location"),
        Some(s.url(&format!("/1.0/users/{id}")).as_str())
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        user,
        json!({
            "id": id, "firstname": "", "lastname": "", "callerid": "", "username": "",
            "password": "", "musiconhold": "", "outcallerid": "", "mobilephonenumber": "",
            "userfield": "", "timezone": "", "language": "", "description": "",
            "enableclient": false, "ctiprofileid": null, "voicemailid": null, "agentid": null,
            "entityid": null, "line": null
        })
    );
    // GET shows exactly what POST answered.
    assert_eq!(s.get(&format!("/1.0/users/{id}")).json(), user);
}

#[test]
fn create_with_every_key_and_a_line() {
    let s = Server::start();
    let sent = json!({
        "firstname": "Jean", "lastname": "Dupond", "callerid": "Jean Dupond", "username": "1234",
        "password": "1234", "enableclient": 1, "musiconhold": "my_music", "outcallerid": "1234",
        "mobilephonenumber": "0611111111", "userfield": "", "timezone": "Europe/Paris",
        "language": "fr_FR", "description": "une description", "ctiprofileid": 1,
        "entityid": "1", "line": {"number": "44500"}
    });
    let user = create(&s, sent);
    assert_eq!(user["enableclient"], json!(true));
    assert_eq!(user["entityid"], json!(1));
    assert_eq!(user["ctiprofileid"], json!(1));
    assert_eq!(user["line"], json!({"number": "44500"}));
    assert_eq!(user["timezone"], "Europe/Paris");
    let got = s.get(&format!("/1.0/users/{}", user["id"])).json();
    assert_eq!(got, user);
}

#[test]
fn read_only_id_is_ignored() {
    let s = Server::start();
    let user = create(&s, json!({"id": 999, "firstname": "A"}));
    assert_ne!(user["id"], json!(999));
    s.get("/1.0/users/999").expect_empty(404);
}

#[test]
fn unicode_round_trip() {
    let s = Server::start();
    let user = create(
        &s,
        json!({"firstname": "Irène", "lastname": "éà@';", "description": "日本語 🎧"}),
    );
    let got = s.get(&format!("/1.0/users/{}", user["id"])).json();
    assert_eq!(got["firstname"], "Irène");
    assert_eq!(got["lastname"], "éà@';");
    assert_eq!(got["description"], "日本語 🎧");
}

#[test]
fn get_missing_and_non_integer_ids_are_404() {
    let s = Server::start();
    for path in [
        "/1.0/users/1",
        "/1.0/users/1/",
        "/1.0/users/abc",
        "/1.0/users/-1",
        "/1.0/users/1.5",
        "/1.0/users/99999999999999999999",
        "/1.0/users/1/extra",
    ] {
        s.get(path).expect_empty(404);
    }
}

#[test]
fn incorrect_parameters_listed_in_order_sent() {
    let s = Server::start();
    let r = s.post(
        "/1.0/users/",
        &json!({"zzz": 1, "firstname": 12, "lastname": "ok", "enableclient": "maybe", "agentid": "x"}),
    );
    r.expect_error(
        400,
        &["Incorrect parameters sent: zzz, firstname, enableclient, agentid"],
    );
    assert_eq!(s.get("/1.0/users/").json()["total"], 0, "nothing written");
}

#[test]
fn wrong_line_shapes_are_incorrect() {
    let s = Server::start();
    for line in [
        json!("44500"),
        json!({}),
        json!({"number": ""}),
        json!({"number": "1", "x": 1}),
        json!([1]),
    ] {
        s.post("/1.0/users/", &json!({"line": line}))
            .expect_error(400, &["Incorrect parameters sent: line"]);
    }
    assert_eq!(s.get("/1.0/users/").json()["total"], 0);
}

#[test]
fn references_must_exist_and_a_failed_create_writes_nothing() {
    let s = Server::start();
    s.post(
        "/1.0/users/",
        &json!({"voicemailid": 42, "agentid": 7, "line": {"number": "1"}}),
    )
    .expect_error(400, &["Incorrect parameters sent: voicemailid, agentid"]);
    assert_eq!(s.get("/1.0/users/").json()["total"], 0);
    let lines: i64 = s
        .sql()
        .query_row("SELECT COUNT(*) FROM lines", [], |r| r.get(0))
        .unwrap();
    assert_eq!(lines, 0);
    let vm = voicemail(&s, "100");
    let user = create(&s, json!({"voicemailid": vm}));
    assert_eq!(user["voicemailid"], json!(vm));
}

#[test]
fn update_changes_only_what_is_sent() {
    let s = Server::start();
    let user = create(
        &s,
        json!({"firstname": "John", "lastname": "Doe", "line": {"number": "44500"}}),
    );
    let id = user["id"].as_i64().unwrap();
    let r = s.put(
        &format!("/1.0/users/{id}"),
        &json!({"lastname": "Smith", "enableclient": true}),
    );
    r.expect(200);
    assert_eq!(
        r.header("location"),
        Some(s.url(&format!("/1.0/users/{id}")).as_str())
    );
    let got = s.get(&format!("/1.0/users/{id}")).json();
    let mut want = user.clone();
    want["lastname"] = json!("Smith");
    want["enableclient"] = json!(true);
    assert_eq!(got, want);
    // The seed's path form with a trailing slash, and PUT-back of exactly what GET gave.
    s.put(&format!("/1.0/users/{id}/"), &got).expect(200);
    assert_eq!(s.get(&format!("/1.0/users/{id}")).json(), want);
}

#[test]
fn update_checks_keys_before_existence() {
    let s = Server::start();
    s.put("/1.0/users/77", &json!({"bogus": 1}))
        .expect_error(400, &["Incorrect parameters sent: bogus"]);
    s.put("/1.0/users/77", &json!({"firstname": "x"}))
        .expect_empty(404);
    s.put("/1.0/users/abc", &json!({"firstname": "x"}))
        .expect_empty(404);
}

#[test]
fn failed_update_changes_nothing() {
    let s = Server::start();
    let user = create(&s, json!({"firstname": "A", "line": {"number": "1"}}));
    let id = user["id"].as_i64().unwrap();
    s.put(
        &format!("/1.0/users/{id}"),
        &json!({"firstname": "B", "line": {"number": "2"}, "voicemailid": 5}),
    )
    .expect_error(400, &["Incorrect parameters sent: voicemailid"]);
    assert_eq!(s.get(&format!("/1.0/users/{id}")).json(), user);
}

#[test]
fn line_set_changed_and_removed() {
    let s = Server::start();
    let user = create(&s, json!({"firstname": "A"}));
    let path = format!("/1.0/users/{}", user["id"]);
    assert_eq!(user["line"], Value::Null);
    s.put(&path, &json!({"line": {"number": "44500"}}))
        .expect(200);
    assert_eq!(s.get(&path).json()["line"], json!({"number": "44500"}));
    s.put(&path, &json!({"line": {"number": 44501}}))
        .expect(200);
    assert_eq!(s.get(&path).json()["line"], json!({"number": "44501"}));
    // The same number to JSON (and to the document's `integer`); a fraction is no number.
    s.put(&path, &json!({"line": {"number": 44502.0}}))
        .expect(200);
    assert_eq!(s.get(&path).json()["line"], json!({"number": "44502"}));
    s.put(&path, &json!({"line": {"number": 44502.5}}))
        .expect_error(400, &["Incorrect parameters sent: line"]);
    s.put(&path, &json!({"line": null})).expect(200);
    assert_eq!(s.get(&path).json()["line"], Value::Null);
    let lines: i64 = s
        .sql()
        .query_row("SELECT COUNT(*) FROM lines", [], |r| r.get(0))
        .unwrap();
    assert_eq!(lines, 0);
}

#[test]
fn voicemail_fullname_follows_the_names() {
    let s = Server::start();
    let vm = voicemail(&s, "123");
    let user = create(
        &s,
        json!({"firstname": "John", "lastname": "Doe", "voicemailid": vm}),
    );
    let path = format!("/1.0/users/{}", user["id"]);
    // No name sent: the voicemail keeps its name.
    s.put(&path, &json!({"description": "x"})).expect(200);
    assert_eq!(voicemail_fullname(&s, vm).unwrap(), "Old Name");
    s.put(&path, &json!({"firstname": "Irène"})).expect(200);
    assert_eq!(voicemail_fullname(&s, vm).unwrap(), "Irène Doe");
    s.put(&path, &json!({"lastname": "Martin"})).expect(200);
    assert_eq!(voicemail_fullname(&s, vm).unwrap(), "Irène Martin");
    // A user without a voicemail: nothing else changes.
    let other = create(&s, json!({}));
    s.put(
        &format!("/1.0/users/{}", other["id"]),
        &json!({"firstname": "Z"}),
    )
    .expect(200);
    assert_eq!(voicemail_fullname(&s, vm).unwrap(), "Irène Martin");
}

#[test]
fn voicemail_fullname_is_not_changed_by_a_failed_update() {
    let s = Server::start();
    let vm = voicemail(&s, "123");
    let user = create(
        &s,
        json!({"firstname": "John", "lastname": "Doe", "voicemailid": vm}),
    );
    s.put(
        &format!("/1.0/users/{}", user["id"]),
        &json!({"firstname": "X", "agentid": 99}),
    )
    .expect_error(400, &["Incorrect parameters sent: agentid"]);
    assert_eq!(voicemail_fullname(&s, vm).unwrap(), "Old Name");
}

#[test]
fn delete_user_and_its_line() {
    let s = Server::start();
    let user = create(&s, json!({"line": {"number": "44500"}}));
    let path = format!("/1.0/users/{}", user["id"]);
    s.delete(&path).expect_empty(200);
    s.get(&path).expect_empty(404);
    s.delete(&path).expect_empty(404);
    s.delete("/1.0/users/abc").expect_empty(404);
    let lines: i64 = s
        .sql()
        .query_row("SELECT COUNT(*) FROM lines", [], |r| r.get(0))
        .unwrap();
    assert_eq!(lines, 0);
}

#[test]
fn delete_with_a_voicemail_is_412_unless_asked() {
    let s = Server::start();
    let vm = voicemail(&s, "123");
    let user = create(&s, json!({"voicemailid": vm}));
    let path = format!("/1.0/users/{}", user["id"]);
    s.delete(&path).expect_error(
        412,
        &["Cannot remove a user with a voicemail. Delete the voicemail or dissociate it from the user."],
    );
    s.get(&path).expect(200);
    assert!(voicemail_fullname(&s, vm).is_some());
    s.delete(&format!("{path}?deleteVoicemail")).expect(200);
    s.get(&path).expect_empty(404);
    assert!(
        voicemail_fullname(&s, vm).is_none(),
        "the voicemail went too"
    );
}

#[test]
fn delete_voicemail_keeps_a_voicemail_another_user_has() {
    let s = Server::start();
    let vm = voicemail(&s, "123");
    let a = create(&s, json!({"voicemailid": vm}));
    let b = create(&s, json!({"voicemailid": vm}));
    s.delete(&format!("/1.0/users/{}?deleteVoicemail", a["id"]))
        .expect(200);
    assert!(voicemail_fullname(&s, vm).is_some(), "b still has it");
    assert_eq!(
        s.get(&format!("/1.0/users/{}", b["id"])).json()["voicemailid"],
        json!(vm)
    );
    s.delete(&format!("/1.0/users/{}?deleteVoicemail", b["id"]))
        .expect(200);
    assert!(voicemail_fullname(&s, vm).is_none());
}

#[test]
fn dissociated_voicemail_no_longer_blocks_delete() {
    let s = Server::start();
    let vm = voicemail(&s, "123");
    let user = create(&s, json!({"voicemailid": vm}));
    let path = format!("/1.0/users/{}", user["id"]);
    s.put(&path, &json!({"voicemailid": null})).expect(200);
    s.delete(&path).expect(200);
    assert!(voicemail_fullname(&s, vm).is_some(), "the voicemail stays");
}

#[test]
fn a_user_with_two_lines_appears_once() {
    let s = Server::start();
    let a = create(&s, json!({"firstname": "A", "line": {"number": "100"}}));
    create(&s, json!({"firstname": "B"}));
    s.sql()
        .execute(
            "INSERT INTO lines (user_id, number) VALUES (?1, '200')",
            [a["id"].as_i64()],
        )
        .unwrap();
    let list = s.get("/1.0/users/").json();
    assert_eq!(list["total"], 2);
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        list["items"][0]["line"],
        json!({"number": "100"}),
        "the first line is shown"
    );
}

#[test]
fn list_in_id_order_with_total() {
    let s = Server::start();
    let ids: Vec<i64> = (0..7)
        .map(|i| {
            create(&s, json!({"firstname": format!("u{i}")}))["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    let list = s.get("/1.0/users/").json();
    assert_eq!(list["total"], 7);
    let got: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, ids);
}

#[test]
fn pagination() {
    let s = Server::start();
    let ids: Vec<i64> = (0..12)
        .map(|_| create(&s, json!({}))["id"].as_i64().unwrap())
        .collect();
    let page = |q: &str| {
        let v = s.get(&format!("/1.0/users/?{q}")).json();
        let items: Vec<i64> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_i64().unwrap())
            .collect();
        (v["total"].as_i64().unwrap(), items)
    };
    assert_eq!(page("_page=1&_pagesize=5"), (12, ids[0..5].to_vec()));
    assert_eq!(page("_page=2&_pagesize=5"), (12, ids[5..10].to_vec()));
    assert_eq!(page("_page=3&_pagesize=5"), (12, ids[10..12].to_vec()));
    assert_eq!(page("_page=4&_pagesize=5"), (12, vec![]));
    assert_eq!(page("_page=1&_pagesize=0"), (12, vec![]));
    assert_eq!(
        page("_page=2"),
        (12, ids.clone()),
        "one of the two: the whole list"
    );
    assert_eq!(page("_pagesize=2"), (12, ids.clone()));
    assert_eq!(
        page("_page=999999999999&_pagesize=999999999999"),
        (12, vec![])
    );
    for (q, bad) in [
        ("_page=0&_pagesize=5", "_page"),
        ("_page=x&_pagesize=5", "_page"),
        ("_page=1&_pagesize=-1", "_pagesize"),
        ("_page=1&_pagesize=2.5", "_pagesize"),
        ("_page=-3&_pagesize=z", "_page, _pagesize"),
    ] {
        s.get(&format!("/1.0/users/?{q}"))
            .expect_error(400, &[&format!("Incorrect parameters sent: {bad}")]);
    }
}

#[test]
fn unknown_list_parameters() {
    let s = Server::start();
    s.get("/1.0/users/?name=x&_page=1&other")
        .expect_error(400, &["Incorrect parameters sent: name, other"]);
}

#[test]
fn methods_not_allowed() {
    let s = Server::start();
    let r = s.send("DELETE", "/1.0/users/", &[], None);
    r.expect_empty(405);
    assert_eq!(r.header("allow"), Some("GET, POST"));
    let r = s.send(
        "POST",
        "/1.0/users/1",
        &[("Content-Type", "application/json")],
        Some(b"{}"),
    );
    r.expect_empty(405);
}

#[test]
fn concurrent_creates_lose_nothing() {
    let s = Server::start();
    let addr = s.addr;
    let handles: Vec<_> = (0..64)
        .map(|i| {
            std::thread::spawn(move || {
                let body = serde_json::to_vec(
                    &json!({"firstname": format!("c{i}"), "line": {"number": format!("{i}")}}),
                )
                .unwrap();
                let r = crate::client::send(
                    addr,
                    "POST",
                    "/1.0/users/",
                    &[("Content-Type", "application/json")],
                    Some(&body),
                );
                r.expect(201);
                r.json()["id"].as_i64().unwrap()
            })
        })
        .collect();
    let mut ids: Vec<i64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 64, "every id distinct");
    let list = s.get("/1.0/users/").json();
    assert_eq!(list["total"], 64);
    let mut names: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["firstname"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    let mut want: Vec<String> = (0..64).map(|i| format!("c{i}")).collect();
    want.sort();
    assert_eq!(names, want);
    let lines: i64 = s
        .sql()
        .query_row("SELECT COUNT(*) FROM lines", [], |r| r.get(0))
        .unwrap();
    assert_eq!(lines, 64);
}
