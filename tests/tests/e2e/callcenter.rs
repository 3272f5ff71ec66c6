//! API.md, "Call center": agents and queues.

use crate::support::Server;
use serde_json::{json, Value};

const AGENTS: &str = "/1.0/CallCenter/agents/";
const QUEUES: &str = "/1.0/CallCenter/queues/";

fn create(s: &Server, path: &str, body: Value) -> Value {
    let r = s.post(path, &body);
    r.expect(201);
    r.json()
}

fn numbers(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["number"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn agents_as_the_seed_shows() {
    let s = Server::start();
    assert_eq!(s.get(AGENTS).json(), json!([]));
    let r = s.post(
        AGENTS,
        &json!({"firstname": "Chuck", "lastname": "N", "number": "2123", "context": "default"}),
    );
    r.expect(201);
    let agent = r.json();
    let id = agent["id"].as_i64().unwrap();
    assert_eq!(
        r.header("location"),
        Some(s.url(&format!("/1.0/CallCenter/agents/{id}")).as_str())
    );
    assert_eq!(
        agent,
        json!({"id": id, "firstname": "Chuck", "lastname": "N", "number": "2123", "passwd": "",
               "context": "default", "language": "", "autologoff": 0, "group": null, "numgroup": 1,
               "description": "", "preprocess_subroutine": null})
    );
    assert_eq!(s.get(&format!("{AGENTS}{id}")).json(), agent);
    assert_eq!(s.get("/1.0/CallCenter/agents").json(), json!([agent]));
}

#[test]
fn lists_are_bare_arrays_sorted_by_number_as_text() {
    let s = Server::start();
    for n in ["2", "10", "1", "3"] {
        create(&s, AGENTS, json!({"number": n}));
        create(&s, QUEUES, json!({"name": format!("q{n}"), "number": n}));
    }
    assert_eq!(numbers(&s.get(AGENTS).json()), ["1", "10", "2", "3"]);
    assert_eq!(numbers(&s.get(QUEUES).json()), ["1", "10", "2", "3"]);
    // Pagination still applies, over that order.
    assert_eq!(
        numbers(&s.get(&format!("{AGENTS}?_page=2&_pagesize=2")).json()),
        ["2", "3"]
    );
    assert_eq!(
        numbers(&s.get(&format!("{QUEUES}?_page=1&_pagesize=3")).json()),
        ["1", "10", "2"]
    );
    assert_eq!(
        s.get(&format!("{QUEUES}?_page=9&_pagesize=3")).json(),
        json!([])
    );
    s.get(&format!("{AGENTS}?_page=0&_pagesize=3"))
        .expect_error(400, &["Incorrect parameters sent: _page"]);
    // A column is a filter (`tests/e2e/lists.rs`); anything else is still refused.
    s.get(&format!("{QUEUES}?sort=number"))
        .expect_error(400, &["Incorrect parameters sent: sort"]);
}

#[test]
fn agent_number_required_and_unique() {
    let s = Server::start();
    s.post(AGENTS, &json!({"firstname": "x"}))
        .expect_error(400, &["Missing parameters: number"]);
    let a = create(&s, AGENTS, json!({"number": "2123"}));
    let b = create(&s, AGENTS, json!({"number": "2124"}));
    s.post(AGENTS, &json!({"number": "2123"}))
        .expect_error(400, &["Incorrect parameters sent: number"]);
    s.put(&format!("{AGENTS}{}", b["id"]), &json!({"number": "2123"}))
        .expect_error(400, &["Incorrect parameters sent: number"]);
    s.put(
        &format!("{AGENTS}{}", a["id"]),
        &json!({"number": "2123", "firstname": "Same"}),
    )
    .expect(200);
    assert_eq!(s.get(AGENTS).json().as_array().unwrap().len(), 2);
}

#[test]
fn agent_update_and_delete() {
    let s = Server::start();
    let a = create(&s, AGENTS, json!({"number": "1"}));
    let path = format!("{AGENTS}{}", a["id"]);
    s.put("/1.0/CallCenter/agents/999", &json!({"bogus": 1}))
        .expect_error(400, &["Incorrect parameters sent: bogus"]);
    s.put("/1.0/CallCenter/agents/999", &json!({"firstname": "x"}))
        .expect_empty(404);
    let r = s.put(
        &path,
        &json!({"autologoff": 30, "group": "g1", "preprocess_subroutine": "sub"}),
    );
    r.expect(200);
    assert_eq!(
        r.header("location"),
        Some(
            s.url(&format!("/1.0/CallCenter/agents/{}", a["id"]))
                .as_str()
        )
    );
    let got = s.get(&path).json();
    assert_eq!(
        (got["autologoff"].clone(), got["group"].clone()),
        (json!(30), json!("g1"))
    );
    s.put(&path, &json!({"autologoff": "soon"}))
        .expect_error(400, &["Incorrect parameters sent: autologoff"]);
    s.delete(&path).expect_empty(200);
    s.get(&path).expect_empty(404);
    s.delete(&path).expect_empty(404);
}

#[test]
fn deleting_an_agent_with_recordings_is_412() {
    let s = Server::start();
    let a = create(&s, AGENTS, json!({"number": "1"}));
    let path = format!("{AGENTS}{}", a["id"]);
    let conn = s.sql();
    conn.execute(
        "INSERT INTO recording_campaigns (campaign_name, activated, base_filename, start_date, end_date) \
         VALUES ('c', 1, 'f', '2013-01-01 00:00:00', '2013-12-31 00:00:00')",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO recordings (cid, campaign_id, agent_id, caller) VALUES ('1.1', 1, ?1, '0231')",
        [a["id"].as_i64()],
    )
    .unwrap();
    let r = s.delete(&path);
    r.expect(412);
    assert!(r.json()[0].as_str().unwrap().contains("recordings"));
    s.get(&path).expect(200);
    conn.execute("DELETE FROM recordings", []).unwrap();
    s.delete(&path).expect(200);
}

#[test]
fn deleting_an_agent_dissociates_its_users() {
    let s = Server::start();
    let a = create(&s, AGENTS, json!({"number": "1"}));
    let user = s.post("/1.0/users/", &json!({"agentid": a["id"]})).json();
    assert_eq!(user["agentid"], a["id"]);
    s.delete(&format!("{AGENTS}{}", a["id"])).expect(200);
    assert_eq!(
        s.get(&format!("/1.0/users/{}", user["id"])).json()["agentid"],
        Value::Null
    );
}

#[test]
fn queues_as_the_seed_shows() {
    let s = Server::start();
    let q = create(
        &s,
        QUEUES,
        json!({"name": "my_queue", "displayname": "My queue", "number": "2000", "context": "default",
               "preprocess_subroutine": "test-subroutine", "waitratio": 0.5, "retries": "2"}),
    );
    let id = q["id"].as_i64().unwrap();
    assert_eq!(
        q,
        json!({"id": id, "name": "my_queue", "displayname": "My queue", "number": "2000",
               "context": "default", "data_quality": 0, "hitting_callee": 0, "hitting_caller": 0,
               "retries": 2, "ring": 0, "transfer_user": 0, "transfer_call": 0, "write_caller": 0,
               "write_calling": 0, "url": "", "announceoverride": "", "timeout": 0,
               "preprocess_subroutine": "test-subroutine", "announce_holdtime": 0, "waittime": 0,
               "waitratio": 0.5})
    );
    assert_eq!(s.get("/1.0/CallCenter/queues").json(), json!([q]));
    let path = format!("{QUEUES}{id}");
    s.put(&path, &json!({"waitratio": 2, "timeout": 15}))
        .expect(200);
    let got = s.get(&path).json();
    assert_eq!(
        (got["waitratio"].clone(), got["timeout"].clone()),
        (json!(2.0), json!(15))
    );
    s.put(&path, &json!({"waitratio": "fast"}))
        .expect_error(400, &["Incorrect parameters sent: waitratio"]);
}

#[test]
fn queue_name_required_and_unique() {
    let s = Server::start();
    s.post(QUEUES, &json!({"number": "1"}))
        .expect_error(400, &["Missing parameters: name"]);
    s.post(QUEUES, &json!({"name": ""}))
        .expect_error(400, &["Incorrect parameters sent: name"]);
    let a = create(&s, QUEUES, json!({"name": "a"}));
    let b = create(&s, QUEUES, json!({"name": "b"}));
    s.post(QUEUES, &json!({"name": "a"}))
        .expect_error(400, &["Incorrect parameters sent: name"]);
    s.put(&format!("{QUEUES}{}", b["id"]), &json!({"name": "a"}))
        .expect_error(400, &["Incorrect parameters sent: name"]);
    s.put(&format!("{QUEUES}{}", a["id"]), &json!({"name": "a"}))
        .expect(200);
}

#[test]
fn deleting_a_queue_leaves_its_campaigns_without_a_queue() {
    let s = Server::start();
    let q = create(&s, QUEUES, json!({"name": "q"}));
    s.sql()
        .execute(
            "INSERT INTO recording_campaigns (campaign_name, activated, base_filename, queue_id, start_date, end_date) \
             VALUES ('c', 1, 'f', ?1, '2013-01-01 00:00:00', '2013-12-31 00:00:00')",
            [q["id"].as_i64()],
        )
        .unwrap();
    s.delete(&format!("{QUEUES}{}", q["id"])).expect_empty(200);
    s.get(&format!("{QUEUES}{}", q["id"])).expect_empty(404);
    let queue_id: Option<i64> = s
        .sql()
        .query_row(
            "SELECT queue_id FROM recording_campaigns WHERE campaign_name = 'c'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(queue_id, None);
}

#[test]
fn other_callcenter_paths_are_404() {
    let s = Server::start();
    for path in [
        "/1.0/CallCenter",
        "/1.0/CallCenter/",
        "/1.0/CallCenter/other/",
        "/1.0/callcenter/agents/",
    ] {
        s.get(path).expect_empty(404);
    }
}
