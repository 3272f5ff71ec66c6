//! API.md, "Recording campaigns".

use crate::support::Server;
use serde_json::{json, Value};

pub const CAMPAIGNS: &str = "/1.0/recording_campaigns/";

/// A date `days` from now, in the output form, computed by SQLite (UTC, like the API).
pub fn day(s: &Server, days: i64) -> String {
    s.sql()
        .query_row(
            "SELECT datetime('now', ?1 || ' days')",
            [days.to_string()],
            |r| r.get(0),
        )
        .unwrap()
}

pub fn queue(s: &Server, name: &str, number: &str) -> i64 {
    let r = s.post(
        "/1.0/CallCenter/queues/",
        &json!({"name": name, "displayname": format!("{name} display"), "number": number}),
    );
    r.expect(201);
    r.json()["id"].as_i64().unwrap()
}

/// Create a campaign; returns its id.
pub fn campaign(s: &Server, body: Value) -> i64 {
    let r = s.post(CAMPAIGNS, &body);
    r.expect(201);
    r.json()
        .as_i64()
        .unwrap_or_else(|| panic!("not an integer: {}", r.text()))
}

fn get(s: &Server, id: i64) -> Value {
    let r = s.get(&format!("/1.0/recording_campaigns/{id}"));
    r.expect(200);
    let v = r.json();
    assert_eq!(v["total"], 1);
    v["items"][0].clone()
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["campaign_name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn create_answers_the_id_as_an_integer_with_location() {
    let s = Server::start();
    let r = s.post(
        CAMPAIGNS,
        &json!({"campaign_name": "c1", "activated": true, "base_filename": "c1-file-",
        "start_date": "2013-01-22 14:53:33", "end_date": "2013-01-22 17:53:36"}),
    );
    r.expect(201);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let id = r.json().as_i64().expect("a JSON integer");
    assert_eq!(
        r.header("location"),
        Some(s.url(&format!("/1.0/recording_campaigns/{id}")).as_str())
    );
    let r = s.get(&format!("/1.0/recording_campaigns/{id}"));
    r.expect(200);
    assert_eq!(
        r.json(),
        json!({"total": 1, "items": [{"id": id, "campaign_name": "c1", "activated": true,
            "base_filename": "c1-file-", "queue_id": null, "start_date": "2013-01-22 14:53:33",
            "end_date": "2013-01-22 17:53:36"}]})
    );
}

#[test]
fn queue_keys_appear_with_a_queue() {
    let s = Server::start();
    let q = queue(&s, "my_queue", "2000");
    let id = campaign(
        &s,
        json!({"campaign_name": "c", "activated": "True", "base_filename": "f", "queue_id": q.to_string()}),
    );
    let c = get(&s, id);
    assert_eq!(c["queue_id"], json!(q));
    assert_eq!(c["queue_name"], "my_queue");
    assert_eq!(c["queue_display_name"], "my_queue display");
    assert_eq!(c["queue_number"], "2000");
    assert_eq!(c["activated"], json!(true));
}

#[test]
fn required_keys_and_missing_dates_default_to_today() {
    let s = Server::start();
    s.post(CAMPAIGNS, &json!({"queue_id": null})).expect_error(
        400,
        &["Missing parameters: campaign_name, activated, base_filename"],
    );
    s.post(
        CAMPAIGNS,
        &json!({"campaign_name": "c", "activated": false}),
    )
    .expect_error(400, &["Missing parameters: base_filename"]);
    let id = campaign(
        &s,
        json!({"campaign_name": "c", "activated": false, "base_filename": "f"}),
    );
    let today: String = s
        .sql()
        .query_row("SELECT date('now') || ' 00:00:00'", [], |r| r.get(0))
        .unwrap();
    let c = get(&s, id);
    assert_eq!(
        (
            c["start_date"].as_str().unwrap(),
            c["end_date"].as_str().unwrap()
        ),
        (today.as_str(), today.as_str())
    );
}

#[test]
fn every_date_form_is_accepted() {
    let s = Server::start();
    for (i, (start, end, want_start, want_end)) in [
        (
            "2013-05-28",
            "2013-05-29",
            "2013-05-28 00:00:00",
            "2013-05-29 00:00:00",
        ),
        (
            "2013-05-28T16:05:59",
            "2013-05-28T18:05:59+02:00",
            "2013-05-28 16:05:59",
            "2013-05-28 16:05:59",
        ),
        (
            "Tue, 28 May 2013 16:05:59",
            "Tue, 28 May 2013 18:05:59 GMT",
            "2013-05-28 16:05:59",
            "2013-05-28 18:05:59",
        ),
        (
            "2013-05-28T10:00:00Z",
            "Wed, 29 May 2013 10:00:00 +0100",
            "2013-05-28 10:00:00",
            "2013-05-29 09:00:00",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let id = campaign(
            &s,
            json!({"campaign_name": format!("c{i}"), "activated": true, "base_filename": "f", "start_date": start, "end_date": end}),
        );
        let c = get(&s, id);
        assert_eq!(
            (
                c["start_date"].as_str().unwrap(),
                c["end_date"].as_str().unwrap()
            ),
            (want_start, want_end),
            "{start} / {end}"
        );
    }
}

#[test]
fn validation_codes_in_order() {
    let s = Server::start();
    let q = queue(&s, "q", "1");
    campaign(
        &s,
        json!({"campaign_name": "taken", "activated": true, "base_filename": "f", "queue_id": q,
        "start_date": "2013-01-10", "end_date": "2013-01-20"}),
    );
    let post = |body: Value| s.post(CAMPAIGNS, &body);
    let base = |name: &str, start: &str, end: &str| json!({"campaign_name": name, "activated": true, "base_filename": "f", "queue_id": q, "start_date": start, "end_date": end});
    post(base("", "2013-02-01", "2013-02-02")).expect_error(400, &["empty_name"]);
    post(base("   ", "2013-02-01", "2013-02-02")).expect_error(400, &["empty_name"]);
    post(base("x", "2013-02-02", "2013-02-01")).expect_error(400, &["start_greater_than_end"]);
    post(base("x", "2013-01-15", "2013-01-25")).expect_error(400, &["concurrent_campaigns"]);
    post(base("x", "2013-01-01", "2013-02-01")).expect_error(400, &["concurrent_campaigns"]);
    post(base("x", "2013-01-12", "2013-01-13")).expect_error(400, &["concurrent_campaigns"]);
    post(base("taken", "2013-03-01", "2013-03-02")).expect_error(400, &["duplicated_name"]);
    post(base("x", "2013-13-01", "2013-03-02")).expect_error(400, &["invalid_date_format"]);
    post(base("x", "2013-03-01", "soon")).expect_error(400, &["invalid_date_format"]);
    // Several at once, in API.md's order; start > end is reported instead of an overlap.
    post(base("", "2013-01-19", "2013-01-11"))
        .expect_error(400, &["empty_name", "start_greater_than_end"]);
    post(base("taken", "2013-01-15", "2013-01-25"))
        .expect_error(400, &["concurrent_campaigns", "duplicated_name"]);
    post(base("taken", "nope", "2013-01-25"))
        .expect_error(400, &["duplicated_name", "invalid_date_format"]);
    post(base("", "nope", "nope")).expect_error(400, &["empty_name", "invalid_date_format"]);
    // A queue that does not exist.
    let mut unknown = base("y", "2013-05-01", "2013-05-02");
    unknown["queue_id"] = json!(999);
    post(unknown).expect_error(400, &["Incorrect parameters sent: queue_id"]);
    // Wrong types are incorrect parameters, before any of the codes.
    post(json!({"campaign_name": 5, "activated": "maybe", "base_filename": "f", "start_date": 20130101}))
        .expect_error(400, &["Incorrect parameters sent: campaign_name, activated, start_date"]);
    assert_eq!(s.get(CAMPAIGNS).json()["total"], 1, "nothing written");
}

#[test]
fn touching_intervals_other_queues_and_no_queue_do_not_overlap() {
    let s = Server::start();
    let (q1, q2) = (queue(&s, "q1", "1"), queue(&s, "q2", "2"));
    let body = |name: &str, q: Option<i64>, start: &str, end: &str| json!({"campaign_name": name, "activated": true, "base_filename": "f", "queue_id": q, "start_date": start, "end_date": end});
    campaign(
        &s,
        body("a", Some(q1), "2013-01-10 00:00:00", "2013-01-20 00:00:00"),
    );
    campaign(
        &s,
        body(
            "touch-after",
            Some(q1),
            "2013-01-20 00:00:00",
            "2013-01-25 00:00:00",
        ),
    );
    campaign(
        &s,
        body(
            "touch-before",
            Some(q1),
            "2013-01-05 00:00:00",
            "2013-01-10 00:00:00",
        ),
    );
    campaign(
        &s,
        body(
            "other-queue",
            Some(q2),
            "2013-01-10 00:00:00",
            "2013-01-20 00:00:00",
        ),
    );
    campaign(
        &s,
        body(
            "no-queue",
            None,
            "2013-01-10 00:00:00",
            "2013-01-20 00:00:00",
        ),
    );
    campaign(
        &s,
        body(
            "no-queue-2",
            None,
            "2013-01-10 00:00:00",
            "2013-01-20 00:00:00",
        ),
    );
    s.post(
        CAMPAIGNS,
        &body(
            "inside",
            Some(q1),
            "2013-01-19 23:59:59",
            "2013-01-20 00:00:01",
        ),
    )
    .expect_error(400, &["concurrent_campaigns"]);
}

#[test]
fn update_answers_updated_and_excludes_itself() {
    let s = Server::start();
    let q = queue(&s, "q", "1");
    let id = campaign(
        &s,
        json!({"campaign_name": "c", "activated": true, "base_filename": "f", "queue_id": q,
        "start_date": "2013-01-10", "end_date": "2013-01-20"}),
    );
    let path = format!("/1.0/recording_campaigns/{id}");
    // PUT back exactly what GET gave: read-only keys ignored, no overlap or duplicate with itself.
    let got = get(&s, id);
    let r = s.put(&path, &got);
    r.expect(200);
    assert_eq!(r.json(), json!(format!("Updated: {id}")));
    assert_eq!(get(&s, id), got);
    s.put(
        &path,
        &json!({"end_date": "2013-01-25", "activated": false}),
    )
    .expect(200);
    let c = get(&s, id);
    assert_eq!(
        (c["end_date"].as_str().unwrap(), c["activated"].clone()),
        ("2013-01-25 00:00:00", json!(false))
    );
    assert_eq!(c["campaign_name"], "c");
    // The seed's trailing-slash form updates too.
    s.put(&format!("{path}/"), &json!({"base_filename": "g"}))
        .expect(200);
    assert_eq!(get(&s, id)["base_filename"], "g");
}

#[test]
fn update_validation() {
    let s = Server::start();
    let q = queue(&s, "q", "1");
    let a = campaign(
        &s,
        json!({"campaign_name": "a", "activated": true, "base_filename": "f", "queue_id": q, "start_date": "2013-01-10", "end_date": "2013-01-20"}),
    );
    let b = campaign(
        &s,
        json!({"campaign_name": "b", "activated": true, "base_filename": "f", "queue_id": q, "start_date": "2013-02-10", "end_date": "2013-02-20"}),
    );
    let path = format!("/1.0/recording_campaigns/{b}");
    let before = get(&s, b);
    s.put(&path, &json!({"campaign_name": "a"}))
        .expect_error(400, &["duplicated_name"]);
    s.put(&path, &json!({"start_date": "2013-01-15"}))
        .expect_error(400, &["concurrent_campaigns"]);
    s.put(&path, &json!({"start_date": "2013-03-15"}))
        .expect_error(400, &["start_greater_than_end"]);
    s.put(&path, &json!({"end_date": "20/02/2013"}))
        .expect_error(400, &["invalid_date_format"]);
    s.put(&path, &json!({"campaign_name": ""}))
        .expect_error(400, &["empty_name"]);
    s.put(&path, &json!({"queue_id": 4242}))
        .expect_error(400, &["Incorrect parameters sent: queue_id"]);
    s.put(&path, &json!({"nope": 1}))
        .expect_error(400, &["Incorrect parameters sent: nope"]);
    assert_eq!(get(&s, b), before, "a failed update changes nothing");
    // Moved to another queue (none): no overlap any more.
    s.put(
        &path,
        &json!({"queue_id": null, "start_date": "2013-01-15"}),
    )
    .expect(200);
    assert!(get(&s, b).get("queue_name").is_none());
    let _ = a;
}

#[test]
fn update_of_a_missing_campaign_is_404_first() {
    let s = Server::start();
    s.put("/1.0/recording_campaigns/9", &json!({"campaign_name": ""}))
        .expect_empty(404);
    s.put("/1.0/recording_campaigns/9", &json!({"bogus": 1}))
        .expect_empty(404);
    s.send(
        "PUT",
        "/1.0/recording_campaigns/9",
        &[("Content-Type", "application/json")],
        Some(b"{"),
    )
    .expect_empty(404);
    s.put("/1.0/recording_campaigns/x", &json!({}))
        .expect_empty(404);
    s.get("/1.0/recording_campaigns/9").expect_empty(404);
}

#[test]
fn delete_answers_deleted_true_or_412_while_not_empty() {
    let s = Server::start();
    let id = campaign(
        &s,
        json!({"campaign_name": "c", "activated": true, "base_filename": "f"}),
    );
    let path = format!("/1.0/recording_campaigns/{id}");
    s.post("/1.0/CallCenter/agents/", &json!({"number": "2123"}))
        .expect(201);
    s.post(
        &format!("{path}/"),
        &json!({"cid": "1.1", "agent_no": "2123"}),
    )
    .expect(201);
    s.delete(&path).expect_error(412, &["campaign_not_empty"]);
    s.delete(&format!("{path}/1.1")).expect(200);
    let r = s.delete(&path);
    r.expect(200);
    assert_eq!(r.json(), json!("Deleted: True"));
    s.get(&path).expect_empty(404);
    s.delete(&path).expect_empty(404);
}

#[test]
fn list_filters_combine_with_and() {
    let s = Server::start();
    let (q1, q2) = (queue(&s, "q1", "3000"), queue(&s, "q2", "3001"));
    let mk = |name: &str, activated: bool, base: &str, q: Option<i64>, start: i64, end: i64| {
        let (start, end) = (day(&s, start), day(&s, end));
        campaign(
            &s,
            json!({"campaign_name": name, "activated": activated, "base_filename": base, "queue_id": q, "start_date": start, "end_date": end}),
        )
    };
    mk("running-on", true, "b1", Some(q1), -1, 1);
    mk("running-off", false, "b1", Some(q2), -1, 1);
    mk("past", true, "b2", Some(q1), -10, -5);
    mk("future", true, "b2", Some(q1), 5, 10);
    mk("accents_éèà&", false, "b3", None, -3, 3);
    let list = |q: &str| s.get(&format!("{CAMPAIGNS}?{q}")).json();
    assert_eq!(names(&list("")).len(), 5);
    assert_eq!(
        names(&list("running=true")),
        ["running-on", "running-off", "accents_éèà&"]
    );
    assert_eq!(names(&list("running=false")), ["past", "future"]);
    assert_eq!(
        names(&list(&format!("queue_id={q1}"))),
        ["running-on", "past", "future"]
    );
    assert_eq!(names(&list("queue_number=3001")), ["running-off"]);
    assert_eq!(
        names(&list("activated=false")),
        ["running-off", "accents_éèà&"]
    );
    assert_eq!(
        names(&list("activated=true&base_filename=b2")),
        ["past", "future"]
    );
    assert_eq!(
        names(&list("campaign_name=accents_%C3%A9%C3%A8%C3%A0%26")),
        ["accents_éèà&"]
    );
    // The recording hook's query.
    let hook = list(&format!("activated=true&queue_id={q1}&running=true"));
    assert_eq!(names(&hook), ["running-on"]);
    assert_eq!(hook["total"], 1);
    assert_eq!(hook["items"][0]["queue_number"], "3000");
    assert_eq!(
        list(&format!("activated=true&queue_id={q2}&running=true")),
        json!({"total": 0, "items": []})
    );
    // total counts the filtered list before paging.
    let page = list("activated=true&_page=2&_pagesize=2");
    assert_eq!(page["total"], 3);
    assert_eq!(names(&page), ["future"]);
}

#[test]
fn running_is_measured_against_now() {
    let s = Server::start();
    let now: String = s
        .sql()
        .query_row("SELECT datetime('now')", [], |r| r.get(0))
        .unwrap();
    let mk = |name: &str, start: &str, end: &str| {
        campaign(
            &s,
            json!({"campaign_name": name, "activated": true, "base_filename": "f", "start_date": start, "end_date": end}),
        )
    };
    mk("ends-a-second-ago", &day(&s, -1), &shift(&s, &now, -1));
    mk("starts-in-a-minute", &shift(&s, &now, 60), &day(&s, 1));
    mk("started-a-second-ago", &shift(&s, &now, -1), &day(&s, 1));
    mk("ends-in-a-minute", &day(&s, -1), &shift(&s, &now, 60));
    let running = s.get(&format!("{CAMPAIGNS}?running=true")).json();
    assert_eq!(
        names(&running),
        ["started-a-second-ago", "ends-in-a-minute"]
    );
}

fn shift(s: &Server, t: &str, seconds: i64) -> String {
    s.sql()
        .query_row(
            "SELECT datetime(?1, ?2 || ' seconds')",
            [t.to_string(), seconds.to_string()],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn list_parameters_are_checked() {
    let s = Server::start();
    s.get(&format!("{CAMPAIGNS}?queue=1"))
        .expect_error(400, &["Incorrect parameters sent: queue"]);
    s.get(&format!("{CAMPAIGNS}?queue_id=abc"))
        .expect_error(400, &["Incorrect parameters sent: queue_id"]);
    s.get(&format!("{CAMPAIGNS}?activated=yes&running=maybe"))
        .expect_error(400, &["Incorrect parameters sent: activated, running"]);
    // Every bad one, once, in the order sent, unknown or of the wrong kind or pagination.
    s.get(&format!("{CAMPAIGNS}?running=x&activated=y"))
        .expect_error(400, &["Incorrect parameters sent: running, activated"]);
    s.get(&format!("{CAMPAIGNS}?bogus=1&queue_id=x&bogus=2"))
        .expect_error(400, &["Incorrect parameters sent: bogus, queue_id"]);
    s.get(&format!("{CAMPAIGNS}?queue_id=x&_page=0&_pagesize=1"))
        .expect_error(400, &["Incorrect parameters sent: queue_id, _page"]);
    s.get(&format!("{CAMPAIGNS}?_page=0&_pagesize=1"))
        .expect_error(400, &["Incorrect parameters sent: _page"]);
}

#[test]
fn pages_do_not_overlap_and_cover_the_list() {
    let s = Server::start();
    for i in 0..23 {
        campaign(
            &s,
            json!({"campaign_name": format!("c{i:02}"), "activated": i % 2 == 0, "base_filename": "f"}),
        );
    }
    let mut seen = Vec::new();
    for page in 1..=5 {
        let v = s
            .get(&format!("{CAMPAIGNS}?_page={page}&_pagesize=5"))
            .json();
        assert_eq!(v["total"], 23);
        seen.extend(names(&v));
    }
    let all = names(&s.get(CAMPAIGNS).json());
    assert_eq!(seen, all);
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique.len(), 23);
}

#[test]
fn utf8_names_round_trip() {
    let s = Server::start();
    let id = campaign(
        &s,
        json!({"campaign_name": "accents_éèà&", "activated": true, "base_filename": "fichier_é"}),
    );
    assert_eq!(get(&s, id)["campaign_name"], "accents_éèà&");
    assert_eq!(get(&s, id)["base_filename"], "fichier_é");
}

#[test]
fn concurrent_creations_cannot_overlap() {
    let s = Server::start();
    let q = queue(&s, "q", "1");
    let addr = s.addr;
    let handles: Vec<_> = (0..16)
        .map(|i| {
            std::thread::spawn(move || {
                let body = serde_json::to_vec(&json!({"campaign_name": format!("c{i}"), "activated": true, "base_filename": "f",
                    "queue_id": q, "start_date": format!("2013-01-{:02}", 1 + i), "end_date": "2013-02-28"})).unwrap();
                crate::client::send(addr, "POST", CAMPAIGNS, &[("Content-Type", "application/json")], Some(&body)).status
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        15,
        "{statuses:?}"
    );
    assert_eq!(s.get(CAMPAIGNS).json()["total"], 1);
}

#[test]
fn deleting_its_queue_leaves_the_campaign_without_one() {
    let s = Server::start();
    let q = queue(&s, "q", "1");
    let id = campaign(
        &s,
        json!({"campaign_name": "c", "activated": true, "base_filename": "f", "queue_id": q}),
    );
    s.delete(&format!("/1.0/CallCenter/queues/{q}")).expect(200);
    let c = get(&s, id);
    assert_eq!(c["queue_id"], Value::Null);
    assert!(c.get("queue_name").is_none() && c.get("queue_number").is_none());
}

#[test]
fn other_methods_and_paths() {
    let s = Server::start();
    let id = campaign(
        &s,
        json!({"campaign_name": "c", "activated": true, "base_filename": "f"}),
    );
    s.send("DELETE", CAMPAIGNS, &[], None).expect_empty(405);
    s.send(
        "POST",
        &format!("{CAMPAIGNS}{id}/search"),
        &[("Content-Type", "application/json")],
        Some(b"{}"),
    )
    .expect_empty(405);
    s.get(&format!("{CAMPAIGNS}{id}/a/b")).expect_empty(404);
    s.get(&format!("{CAMPAIGNS}{id}/a/b/c")).expect_empty(404);
}
