//! API.md, "Voicemails", and the rules that tie voicemails to users.

use crate::support::Server;
use serde_json::{json, Value};

fn create(s: &Server, body: Value) -> Value {
    let r = s.post("/1.0/voicemails/", &body);
    r.expect(201);
    r.json()
}

#[test]
fn create_get_list() {
    let s = Server::start();
    assert_eq!(
        s.get("/1.0/voicemails").json(),
        json!({"total": 0, "items": []})
    );
    let r = s.post("/1.0/voicemails/", &json!({"mailbox": "123", "password": "123", "email": "john.doe@bar.com", "fullname": "John Doe", "attach": 1}));
    r.expect(201);
    let vm = r.json();
    let id = vm["id"].as_i64().unwrap();
    assert_eq!(
        r.header("location"),
        Some(s.url(&format!("/1.0/voicemails/{id}")).as_str())
    );
    assert_eq!(
        vm,
        json!({"id": id, "email": "john.doe@bar.com", "fullname": "John Doe", "mailbox": "123",
               "password": "123", "attach": true, "skipcheckpass": false, "deleteaftersend": false})
    );
    assert_eq!(s.get(&format!("/1.0/voicemails/{id}")).json(), vm);
    let other = create(
        &s,
        json!({"mailbox": "456", "email": null, "skipcheckpass": "True", "deleteaftersend": true}),
    );
    assert_eq!(other["email"], Value::Null);
    assert_eq!(other["skipcheckpass"], json!(true));
    let list = s.get("/1.0/voicemails/").json();
    assert_eq!(list["total"], 2);
    assert_eq!(list["items"], json!([vm, other]));
}

#[test]
fn mailbox_is_required_and_not_empty() {
    let s = Server::start();
    s.post("/1.0/voicemails/", &json!({"password": "1"}))
        .expect_error(400, &["Missing parameters: mailbox"]);
    s.post("/1.0/voicemails/", &json!({"mailbox": ""}))
        .expect_error(400, &["Incorrect parameters sent: mailbox"]);
    s.post("/1.0/voicemails/", &json!({"mailbox": 123}))
        .expect_error(400, &["Incorrect parameters sent: mailbox"]);
    assert_eq!(s.get("/1.0/voicemails/").json()["total"], 0);
}

#[test]
fn booleans_must_be_booleans() {
    let s = Server::start();
    s.post(
        "/1.0/voicemails/",
        &json!({"mailbox": "1", "attach": "yes", "skipcheckpass": 2, "deleteaftersend": null}),
    )
    .expect_error(
        400,
        &["Incorrect parameters sent: attach, skipcheckpass, deleteaftersend"],
    );
}

#[test]
fn duplicate_mailbox_is_incorrect_never_500() {
    let s = Server::start();
    create(&s, json!({"mailbox": "123"}));
    let other = create(&s, json!({"mailbox": "456"}));
    s.post("/1.0/voicemails/", &json!({"mailbox": "123"}))
        .expect_error(400, &["Incorrect parameters sent: mailbox"]);
    let path = format!("/1.0/voicemails/{}", other["id"]);
    s.put(&path, &json!({"mailbox": "123"}))
        .expect_error(400, &["Incorrect parameters sent: mailbox"]);
    assert_eq!(s.get(&path).json()["mailbox"], "456");
    // Its own mailbox is not a duplicate.
    s.put(&path, &json!({"mailbox": "456", "password": "9"}))
        .expect(200);
    assert_eq!(s.get("/1.0/voicemails/").json()["total"], 2);
}

#[test]
fn update_only_what_is_sent() {
    let s = Server::start();
    let vm = create(
        &s,
        json!({"mailbox": "123", "password": "1", "email": "a@b.c"}),
    );
    let path = format!("/1.0/voicemails/{}", vm["id"]);
    let r = s.put(
        &path,
        &json!({"password": "7895", "email": "xivo@avencall.com"}),
    );
    r.expect(200);
    assert_eq!(r.header("location"), Some(s.url(&path).as_str()));
    let mut want = vm.clone();
    want["password"] = json!("7895");
    want["email"] = json!("xivo@avencall.com");
    assert_eq!(s.get(&path).json(), want);
    s.put(&path, &json!({"email": null})).expect(200);
    assert_eq!(s.get(&path).json()["email"], Value::Null);
}

#[test]
fn update_checks_keys_before_existence() {
    let s = Server::start();
    s.put("/1.0/voicemails/37", &json!({"uniqueid": 1}))
        .expect_error(400, &["Incorrect parameters sent: uniqueid"]);
    s.put("/1.0/voicemails/37", &json!({"password": "1"}))
        .expect_empty(404);
    s.get("/1.0/voicemails/37").expect_empty(404);
    s.get("/1.0/voicemails/x").expect_empty(404);
    s.delete("/1.0/voicemails/37").expect_empty(404);
}

#[test]
fn delete_is_412_while_a_user_points_at_it() {
    let s = Server::start();
    let vm = create(&s, json!({"mailbox": "123"}));
    let path = format!("/1.0/voicemails/{}", vm["id"]);
    let user = s.post("/1.0/users/", &json!({"voicemailid": vm["id"]}));
    user.expect(201);
    let r = s.delete(&path);
    r.expect(412);
    assert_eq!(r.json().as_array().unwrap().len(), 1);
    s.get(&path).expect(200);
    s.put(
        &format!("/1.0/users/{}", user.json()["id"]),
        &json!({"voicemailid": null}),
    )
    .expect(200);
    s.delete(&path).expect_empty(200);
    s.get(&path).expect_empty(404);
}

#[test]
fn fullname_follows_the_user_seen_from_voicemails() {
    let s = Server::start();
    let vm = create(&s, json!({"mailbox": "123", "fullname": "Before"}));
    let user = s
        .post(
            "/1.0/users/",
            &json!({"firstname": "John", "lastname": "Doe", "voicemailid": vm["id"]}),
        )
        .json();
    s.put(
        &format!("/1.0/users/{}", user["id"]),
        &json!({"firstname": "Irène"}),
    )
    .expect(200);
    assert_eq!(
        s.get(&format!("/1.0/voicemails/{}", vm["id"])).json()["fullname"],
        "Irène Doe"
    );
    let listed = s.get("/1.0/voicemails/").json();
    assert_eq!(listed["items"][0]["fullname"], "Irène Doe");
}

#[test]
fn deleting_a_user_with_delete_voicemail_removes_it_from_voicemails() {
    let s = Server::start();
    let vm = create(&s, json!({"mailbox": "123"}));
    let keep = create(&s, json!({"mailbox": "456"}));
    let user = s
        .post("/1.0/users/", &json!({"voicemailid": vm["id"]}))
        .json();
    s.delete(&format!("/1.0/users/{}?deleteVoicemail", user["id"]))
        .expect(200);
    s.get(&format!("/1.0/voicemails/{}", vm["id"]))
        .expect_empty(404);
    assert_eq!(s.get("/1.0/voicemails/").json()["items"], json!([keep]));
}

#[test]
fn pagination() {
    let s = Server::start();
    for i in 0..5 {
        create(&s, json!({"mailbox": format!("{i}")}));
    }
    let page = s.get("/1.0/voicemails/?_page=2&_pagesize=2").json();
    assert_eq!(page["total"], 5);
    let boxes: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["mailbox"].as_str().unwrap())
        .collect();
    assert_eq!(boxes, ["2", "3"]);
    s.get("/1.0/voicemails/?_page=a&_pagesize=2")
        .expect_error(400, &["Incorrect parameters sent: _page"]);
    // A column is a filter (`tests/e2e/lists.rs`); anything else is still refused.
    s.get("/1.0/voicemails/?password=1")
        .expect_error(400, &["Incorrect parameters sent: password"]);
}
