//! API.md, "Recordings", and the query plans that keep the hook fast at scale.

use std::sync::{Arc, Mutex};

use testhost::sqlite::StatementLog;

use crate::campaigns::{campaign, queue};
use crate::support::{skipped_under_spin, Server};
use serde_json::{json, Value};

struct Setup {
    s: Server,
    campaign: i64,
}

impl Setup {
    fn new() -> Self {
        Self::with(Server::start())
    }

    fn with(s: Server) -> Self {
        for (number, first) in [("2123", "Chuck"), ("2124", "Alice")] {
            s.post(
                "/1.0/CallCenter/agents/",
                &json!({"number": number, "firstname": first}),
            )
            .expect(201);
        }
        let campaign = campaign(
            &s,
            json!({"campaign_name": "c", "activated": true, "base_filename": "f"}),
        );
        Self { s, campaign }
    }

    fn path(&self) -> String {
        format!("/1.0/recording_campaigns/{}/", self.campaign)
    }

    fn add(&self, body: Value) {
        let r = self.s.post(&self.path(), &body);
        r.expect(201);
        assert_eq!(r.json(), json!("Added: True"));
    }

    fn cids(&self, query: &str) -> (i64, Vec<String>) {
        self.cids_at(&format!("{}{query}", self.path()))
    }

    /// The `total` and the cids of a page of recordings at `path`.
    fn cids_at(&self, path: &str) -> (i64, Vec<String>) {
        let v = self.s.get(path).json();
        let cids = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["cid"].as_str().unwrap().to_string())
            .collect();
        (v["total"].as_i64().unwrap(), cids)
    }
}

#[test]
fn add_and_list() {
    let t = Setup::new();
    t.add(
        json!({"cid": "123.456", "agent_no": "2123", "caller": "0231156897", "callee": "2000",
        "client_id": "abcd", "filename": "file.wav", "start_time": "2013-01-22 14:53:33",
        "end_time": "2013-01-22T14:55:00Z", "campaign_id": 999}),
    );
    let agent_id = t.s.get("/1.0/CallCenter/agents/").json()[0]["id"].clone();
    let list = t.s.get(&t.path()).json();
    assert_eq!(
        list,
        json!({"total": 1, "items": [{"cid": "123.456", "campaign_id": t.campaign, "agent_id": agent_id,
            "agent_no": "2123", "caller": "0231156897", "callee": "2000", "client_id": "abcd",
            "filename": "file.wav", "start_time": "2013-01-22 14:53:33", "end_time": "2013-01-22 14:55:00"}]})
    );
}

#[test]
fn add_by_agent_id_and_without_optional_keys() {
    let t = Setup::new();
    let agent = &t.s.get("/1.0/CallCenter/agents/").json()[1];
    // The seed's heading form: no trailing slash.
    let r = t.s.post(
        &format!("/1.0/recording_campaigns/{}", t.campaign),
        &json!({"cid": "1", "agent_id": agent["id"]}),
    );
    r.expect(201);
    let item = &t.s.get(&t.path()).json()["items"][0];
    assert_eq!(item["agent_no"], agent["number"]);
    for key in [
        "caller",
        "callee",
        "client_id",
        "filename",
        "start_time",
        "end_time",
    ] {
        assert_eq!(item[key], Value::Null, "{key}");
    }
}

#[test]
fn every_date_form() {
    let t = Setup::new();
    for (i, (input, want)) in [
        ("2013-05-28", "2013-05-28 00:00:00"),
        ("2013-05-28 16:05:59", "2013-05-28 16:05:59"),
        ("2013-05-28T16:05:59+02:00", "2013-05-28 14:05:59"),
        ("Tue, 28 May 2013 16:05:59", "2013-05-28 16:05:59"),
        ("Tue, 28 May 2013 16:05:59 +0000", "2013-05-28 16:05:59"),
    ]
    .into_iter()
    .enumerate()
    {
        t.add(json!({"cid": format!("d{i}"), "agent_no": "2123", "start_time": input, "end_time": input}));
        let item = &t.s.get(&format!("{}?cid=d{i}", t.path())).json()["items"][0];
        assert_eq!(item["start_time"], want, "{input}");
        assert_eq!(item["end_time"], want, "{input}");
    }
    t.s.post(
        &t.path(),
        &json!({"cid": "bad", "agent_no": "2123", "start_time": "28/05/2013"}),
    )
    .expect_error(400, &["Incorrect parameters sent: start_time"]);
}

#[test]
fn add_errors() {
    let t = Setup::new();
    let path = t.path();
    t.s.post(&path, &json!({"agent_no": "2123"}))
        .expect_error(400, &["Missing parameters: cid"]);
    t.s.post(&path, &json!({"cid": "1", "agent_no": "9999"}))
        .expect_error(400, &["No such agent"]);
    t.s.post(&path, &json!({"cid": "1", "agent_id": 9999}))
        .expect_error(400, &["No such agent"]);
    t.s.post(&path, &json!({"cid": "1"}))
        .expect_error(400, &["Missing parameters: agent_no"]);
    t.s.post(&path, &json!({"cid": "", "agent_no": "2123"}))
        .expect_error(400, &["Incorrect parameters sent: cid"]);
    t.s.post(
        &path,
        &json!({"cid": "1", "agent_no": "2123", "colour": "red"}),
    )
    .expect_error(400, &["Incorrect parameters sent: colour"]);
    t.add(json!({"cid": "1", "agent_no": 2123}));
    // `2123.0` is the same number to JSON; `2123.5` is no agent's number.
    t.add(json!({"cid": "1.0", "agent_no": 2123.0}));
    t.s.delete(&format!("{path}1.0")).expect(200);
    t.s.post(&path, &json!({"cid": "1.5", "agent_no": 2123.5}))
        .expect_error(400, &["Incorrect parameters sent: agent_no"]);
    t.s.post(&path, &json!({"cid": "1", "agent_no": "2124"}))
        .expect_error(400, &["Incorrect parameters sent: cid"]);
    // The cid is unique across campaigns too.
    let other = campaign(
        &t.s,
        json!({"campaign_name": "d", "activated": true, "base_filename": "f"}),
    );
    t.s.post(
        &format!("/1.0/recording_campaigns/{other}/"),
        &json!({"cid": "1", "agent_no": "2123"}),
    )
    .expect_error(400, &["Incorrect parameters sent: cid"]);
    assert_eq!(t.cids(""), (1, vec!["1".to_string()]));
}

#[test]
fn unknown_campaign_is_404() {
    let t = Setup::new();
    t.s.post(
        "/1.0/recording_campaigns/999/",
        &json!({"cid": "1", "agent_no": "2123"}),
    )
    .expect_empty(404);
    t.s.get("/1.0/recording_campaigns/999/").expect_empty(404);
    t.s.get("/1.0/recording_campaigns/999/search?key=1")
        .expect_empty(404);
    t.s.delete("/1.0/recording_campaigns/999/1")
        .expect_empty(404);
    t.s.get("/1.0/recording_campaigns/abc/").expect_empty(404);
}

#[test]
fn list_order_filters_and_pages() {
    let t = Setup::new();
    for (cid, agent, caller, start) in [
        ("b", "2123", "100", "2013-01-01 10:00:00"),
        ("a", "2124", "200", "2013-01-01 10:00:00"),
        ("c", "2123", "200", "2013-01-01 09:00:00"),
        ("d", "2124", "100", "2013-01-02 08:00:00"),
        ("e", "2123", "300", "2013-01-01 11:00:00"),
    ] {
        t.add(json!({"cid": cid, "agent_no": agent, "caller": caller, "start_time": start}));
    }
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(t.cids(""), (5, strings(&["c", "a", "b", "e", "d"])));
    assert_eq!(t.cids("?caller=200"), (2, strings(&["c", "a"])));
    assert_eq!(t.cids("?agent_no=2124"), (2, strings(&["a", "d"])));
    assert_eq!(t.cids("?agent_no=2123&caller=100"), (1, strings(&["b"])));
    assert_eq!(t.cids("?cid=e"), (1, strings(&["e"])));
    assert_eq!(t.cids("?agent_no=0000"), (0, vec![]));
    assert_eq!(t.cids("?_page=2&_pagesize=2"), (5, strings(&["b", "e"])));
    assert_eq!(
        t.cids("?caller=200&_page=2&_pagesize=1"),
        (2, strings(&["a"]))
    );
    t.s.get(&format!("{}?key=1", t.path()))
        .expect_error(400, &["Incorrect parameters sent: key"]);
}

#[test]
fn search_by_caller_or_agent_number() {
    let t = Setup::new();
    for (cid, agent, caller) in [
        ("1", "2123", "2124"),
        ("2", "2124", "555"),
        ("3", "2123", "555"),
        ("4", "2123", "21240"),
    ] {
        t.add(json!({"cid": cid, "agent_no": agent, "caller": caller, "start_time": format!("2013-01-01 10:00:0{cid}")}));
    }
    let search = |q: &str| t.cids(&format!("search{q}"));
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // "2124" is the caller of 1 and the agent of 2; "21240" is not a match (exact only).
    assert_eq!(search("?key=2124"), (2, strings(&["1", "2"])));
    assert_eq!(search("/?key=555"), (2, strings(&["2", "3"])));
    assert_eq!(search("?key=212"), (0, vec![]));
    assert_eq!(search(""), (4, strings(&["1", "2", "3", "4"])));
    assert_eq!(search("/"), (4, strings(&["1", "2", "3", "4"])));
    assert_eq!(
        search("?key=2123&_page=2&_pagesize=2"),
        (3, strings(&["4"]))
    );
    t.s.get(&format!("{}search?caller=1", t.path()))
        .expect_error(400, &["Incorrect parameters sent: caller"]);
}

#[test]
fn delete_one_recording() {
    let t = Setup::new();
    t.add(json!({"cid": "1369745159.123", "agent_no": "2123"}));
    t.add(json!({"cid": "a b/c", "agent_no": "2123"}));
    let other = campaign(
        &t.s,
        json!({"campaign_name": "d", "activated": true, "base_filename": "f"}),
    );
    t.s.delete(&format!("/1.0/recording_campaigns/{other}/1369745159.123"))
        .expect_empty(404);
    let r = t.s.delete(&format!("{}1369745159.123", t.path()));
    r.expect(200);
    assert_eq!(r.json(), json!("Deleted: True"));
    t.s.delete(&format!("{}1369745159.123", t.path()))
        .expect_empty(404);
    t.s.delete(&format!("{}a%20b%2Fc", t.path())).expect(200);
    assert_eq!(t.cids(""), (0, vec![]));
    // A recording whose cid is `search` can be deleted too.
    t.add(json!({"cid": "search", "agent_no": "2123"}));
    t.s.delete(&format!("{}search", t.path())).expect(200);
    assert_eq!(t.cids(""), (0, vec![]));
}

#[test]
fn deleting_an_agent_with_recordings_is_412_through_the_api() {
    let t = Setup::new();
    t.add(json!({"cid": "1", "agent_no": "2123"}));
    let agent = t.s.get("/1.0/CallCenter/agents/").json()[0]["id"].clone();
    t.s.delete(&format!("/1.0/CallCenter/agents/{agent}"))
        .expect(412);
    t.s.delete(&format!("{}1", t.path())).expect(200);
    t.s.delete(&format!("/1.0/CallCenter/agents/{agent}"))
        .expect(200);
}

/// The statements a request ran, and SQLite's plan for each.
fn plans(s: &Server, log: &StatementLog, path: &str) -> Vec<(String, String)> {
    log.lock().unwrap().clear();
    s.get(path).expect(200);
    let statements: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .map(|(sql, _)| sql.clone())
        .collect();
    let conn = s.sql();
    statements
        .into_iter()
        .filter(|sql| {
            sql.trim_start().to_ascii_uppercase().starts_with("SELECT") && sql.contains("recording")
        })
        .map(|sql| {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let n = stmt.parameter_count();
            let rows: Vec<String> = stmt
                .query_map(
                    rusqlite::params_from_iter(std::iter::repeat_n(rusqlite::types::Null, n)),
                    |r| r.get::<_, String>(3),
                )
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (sql, rows.join(" | "))
        })
        .collect()
}

#[test]
fn the_hook_query_and_the_search_use_indexes() {
    if skipped_under_spin(
        "reads the statements the components ran, which only the test host records",
    ) {
        return;
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let s = Server::start_with(|config| config.with_statement_log(log.clone()));
    let q = queue(&s, "q", "1");
    let t = Setup::with(s);
    t.add(json!({"cid": "1", "agent_no": "2123", "caller": "555"}));
    // A caller whose number is also an agent's: that search merges two index scans.
    t.add(json!({"cid": "2", "agent_no": "2124", "caller": "2123"}));
    // Enough rows for a deep page (past the first 2,000, it starts at its day).
    let agent: i64 =
        t.s.sql()
            .query_row("SELECT id FROM agents WHERE number = '2123'", [], |r| {
                r.get(0)
            })
            .unwrap();
    let mut conn = t.s.sql();
    let tx = conn.transaction().unwrap();
    for i in 0..2100 {
        tx.execute(
            "INSERT INTO recordings (cid, campaign_id, agent_id, start_time) VALUES (?, ?, ?, ?)",
            rusqlite::params![
                format!("deep{i}"),
                t.campaign,
                agent,
                format!("2013-05-{:02} 10:00:{:02}", 1 + i / 100, i % 60)
            ],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    for (path, what) in [
        (
            format!("/1.0/recording_campaigns/?activated=true&queue_id={q}&running=true"),
            "hook",
        ),
        (
            format!("/1.0/recording_campaigns/{}/search?key=555", t.campaign),
            "search",
        ),
        (
            format!(
                "/1.0/recording_campaigns/{}/?agent_no=2123&_page=1&_pagesize=10",
                t.campaign
            ),
            "list",
        ),
        (
            format!("/1.0/recording_campaigns/{}/search?key=2124", t.campaign),
            "search by agent",
        ),
        (
            format!(
                "/1.0/recording_campaigns/{}/search?key=2123&_page=3&_pagesize=20",
                t.campaign
            ),
            "search by caller and agent",
        ),
        (
            format!(
                "/1.0/recording_campaigns/{}/?_page=101&_pagesize=20",
                t.campaign
            ),
            "deep page",
        ),
        (
            format!(
                "/1.0/recording_campaigns/{}/?from=2013-05-02%2006:00:00&until=2013-05-09%2012:00:00&_page=2&_pagesize=20",
                t.campaign
            ),
            "time range",
        ),
    ] {
        let plans = plans(&t.s, &log, &path);
        assert!(!plans.is_empty(), "{what}: no statement seen");
        for (sql, plan) in plans {
            if what == "hook" {
                // The running campaign is found by its end: past campaigns are not read.
                assert!(
                    plan.contains("recording_campaigns_queue (queue_id=? AND end_date>?)"),
                    "{plan}"
                );
            }
            assert!(
                !plan.contains("SCAN r")
                    && !plan.contains("SCAN c")
                    && !plan.contains("SCAN recording"),
                "{what}: a full scan in\n{sql}\n{plan}"
            );
            assert!(
                plan.contains("USING INDEX")
                    || plan.contains("USING COVERING INDEX")
                    || plan.contains("PRIMARY KEY"),
                "{what}: no index in\n{sql}\n{plan}"
            );
            // A page's keys come in index order and stop after the page: nothing sorts every
            // match (only the page's own rows, once read through `p`, are put in order).
            let keys = plan.split("SCAN p").next().unwrap_or_default();
            assert!(
                what == "hook" || !keys.contains("TEMP B-TREE"),
                "{what}: a sort in\n{sql}\n{plan}"
            );
        }
    }
}

/// `from` (inclusive) and `until` (exclusive) on `start_time`, on the list and the search, in
/// any of API.md's date forms.
#[test]
fn time_ranges() {
    let t = Setup::new();
    for (cid, start, caller) in [
        ("a", "2013-05-27 23:59:59", "555"),
        ("b", "2013-05-28 00:00:00", "555"),
        ("c", "2013-05-28 12:00:00", "666"),
        ("d", "2013-05-29 00:00:00", "555"),
    ] {
        t.add(json!({"cid": cid, "agent_no": "2123", "caller": caller, "start_time": start}));
    }
    t.add(json!({"cid": "no-start", "agent_no": "2123", "caller": "555"}));
    let day = "from=2013-05-28&until=2013-05-29";
    assert_eq!(
        t.cids(&format!("?{day}")),
        (2, vec!["b".into(), "c".into()])
    );
    assert_eq!(t.cids("?from=2013-05-28T12:00:00Z").1, vec!["c", "d"]);
    assert_eq!(
        t.cids("?until=Tue,%2028%20May%202013%2012:00:00").1,
        vec!["a", "b"]
    );
    assert_eq!(t.cids(&format!("?caller=555&{day}")).1, vec!["b"]);
    assert_eq!(
        t.cids(&format!("?{day}&_page=2&_pagesize=1")),
        (2, vec!["c".into()])
    );

    let search = |query: &str| {
        t.cids_at(&format!(
            "/1.0/recording_campaigns/{}/search?{query}",
            t.campaign
        ))
    };
    assert_eq!(search(&format!("key=555&{day}")), (1, vec!["b".into()]));
    assert_eq!(search(&format!("key=2123&{day}")).1, vec!["b", "c"]);
    assert_eq!(search("key=555&from=2013-05-28").1, vec!["b", "d"]);
    assert_eq!(search(day).1, vec!["b", "c"]);

    for (query, bad) in [
        ("from=yesterday", "from"),
        ("until=2013-02-30", "until"),
        ("from=x&until=y", "from, until"),
    ] {
        t.s.get(&format!("{}?{query}", t.path()))
            .expect_error(400, &[&format!("Incorrect parameters sent: {bad}")]);
        t.s.get(&format!(
            "/1.0/recording_campaigns/{}/search?key=555&{query}",
            t.campaign
        ))
        .expect_error(400, &[&format!("Incorrect parameters sent: {bad}")]);
    }
}

#[test]
fn a_time_range_is_an_index_search() {
    if skipped_under_spin(
        "reads the statements the components ran, which only the test host records",
    ) {
        return;
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let t = Setup::with(Server::start_with(|config| {
        config.with_statement_log(log.clone())
    }));
    t.add(json!({"cid": "1", "agent_no": "2123", "caller": "555", "start_time": "2013-05-28"}));
    let week = "from=2013-05-27&until=2013-06-03&_page=1&_pagesize=20";
    for path in [
        format!("{}?{week}", t.path()),
        format!(
            "/1.0/recording_campaigns/{}/search?key=555&{week}",
            t.campaign
        ),
    ] {
        let ranged: Vec<_> = plans(&t.s, &log, &path)
            .into_iter()
            .filter(|(sql, _)| sql.contains("start_time >= ?"))
            .collect();
        assert!(!ranged.is_empty(), "{path}: no ranged statement");
        for (sql, plan) in ranged {
            assert!(
                !plan.contains("SCAN r") && !plan.contains("SCAN recordings"),
                "a full scan in\n{sql}\n{plan}"
            );
            assert!(
                plan.contains("start_time>? AND start_time<?"),
                "{path}:\n{sql}\n{plan}"
            );
        }
    }
}

/// A campaign may keep its recordings `retention_days` after they end: the expired ones go a
/// few at a time with each recording added, and in batches on `POST .../purge`.
#[test]
fn retention() {
    let t = Setup::new();
    let campaign = format!("/1.0/recording_campaigns/{}", t.campaign);
    // A campaign without retention shows no new key: a 2013 client sees it as before.
    let shown = t.s.get(&campaign).json()["items"][0].clone();
    assert!(shown.get("retention_days").is_none(), "{shown}");
    for bad in [json!(0), json!(-3), json!("30"), json!(1.5), json!(true)] {
        t.s.put(&campaign, &json!({"retention_days": bad}))
            .expect_error(400, &["Incorrect parameters sent: retention_days"]);
    }
    let purge = format!("{campaign}/purge");
    let r = t.s.post(&purge, &json!({}));
    assert_eq!(r.json(), json!({"deleted": 0, "remaining": 0}));

    // 25 recordings that ended long ago, 2 recent, 1 without an end.
    for i in 0..25 {
        t.add(json!({"cid": format!("old{i:02}"), "agent_no": "2123", "end_time": "2013-05-28 10:00:00"}));
    }
    let recent = chrono_like_now_minus_days(1);
    t.add(json!({"cid": "recent1", "agent_no": "2123", "end_time": recent}));
    t.add(json!({"cid": "no-end", "agent_no": "2123"}));
    assert_eq!(t.cids("").0, 27);

    t.s.put(&campaign, &json!({"retention_days": 30}))
        .expect(200);
    assert_eq!(t.s.get(&campaign).json()["items"][0]["retention_days"], 30);
    // Each recording added takes up to 10 expired ones with it.
    t.add(json!({"cid": "recent2", "agent_no": "2123", "end_time": recent}));
    assert_eq!(t.cids("").0, 28 - 10);
    let r = t.s.post(&purge, &json!({}));
    assert_eq!(r.json(), json!({"deleted": 15, "remaining": 0}));
    let (total, cids) = t.cids("");
    assert_eq!(total, 3);
    assert!(cids.iter().all(|c| !c.starts_with("old")), "{cids:?}");
    t.s.post("/1.0/recording_campaigns/999999/purge", &json!({}))
        .expect_empty(404);

    t.s.put(&campaign, &json!({"retention_days": null}))
        .expect(200);
    let shown = t.s.get(&campaign).json()["items"][0].clone();
    assert!(shown.get("retention_days").is_none(), "{shown}");
}

/// Yesterday, in the stored form, from the test's own clock.
fn chrono_like_now_minus_days(days: u64) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - days * 86_400;
    let (d, s) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(d as i64);
    format!(
        "{y:04}-{m:02}-{day:02} {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Days since 1970-01-01 to a calendar date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A small deterministic generator for the random data below.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// The list and the search answer, on random data and random pages, exactly what the 2013
/// queries answer (one join, `ORDER BY start_time, cid`, `LIMIT`/`OFFSET`, `COUNT(*)` over
/// the same join), run here on the same database: the same items in the same order, the
/// same totals, whatever shortcut the component takes (kept counts, merged index scans,
/// deep pages started at their day).
#[test]
fn the_queries_agree_with_the_2013_ones_on_random_data() {
    let t = Setup::new();
    let mut rng = Lcg(2013);
    let other = campaign(
        &t.s,
        json!({"campaign_name": "other", "activated": true, "base_filename": "o"}),
    );
    let conn = t.s.sql();
    let agents: Vec<(i64, String)> = {
        let mut stmt = conn.prepare("SELECT id, number FROM agents").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let callers = ["555", "666", "777", "2123", "888"];
    {
        let mut conn = t.s.sql();
        let tx = conn.transaction().unwrap();
        for i in 0..3000u64 {
            let campaign = if rng.below(10) < 8 { t.campaign } else { other };
            let (agent, _) = &agents[rng.below(agents.len() as u64) as usize];
            let caller = (rng.below(10) > 0).then(|| callers[rng.below(5) as usize]);
            // Some without a start time, many sharing one (the cid breaks the tie).
            let start = (rng.below(20) > 0)
                .then(|| format!("2013-05-{:02} {:02}:00:00", 1 + rng.below(28), rng.below(3)));
            tx.execute(
                "INSERT INTO recordings (cid, campaign_id, agent_id, caller, start_time) \
                 VALUES (?, ?, ?, ?, ?)",
                rusqlite::params![
                    format!("c{:05}", rng.below(100_000) * 10 + i % 10),
                    campaign,
                    agent,
                    caller,
                    start
                ],
            )
            .ok();
        }
        tx.commit().unwrap();
    }
    // Deletions and moves go through the counts too.
    conn.execute("DELETE FROM recordings WHERE rowid % 17 = 0", [])
        .unwrap();
    conn.execute(
        "UPDATE recordings SET start_time = '2013-06-01 00:00:00' WHERE rowid % 23 = 0",
        [],
    )
    .unwrap();

    let oracle = |filter: &str, values: &[rusqlite::types::Value], page: Option<(i64, i64)>| {
        let from = format!(" FROM recordings r JOIN agents a ON a.id = r.agent_id WHERE {filter}");
        let total: i64 = conn
            .query_row(
                &format!("SELECT COUNT(*){from}"),
                rusqlite::params_from_iter(values),
                |r| r.get(0),
            )
            .unwrap();
        let (limit, offset) = page.map_or((-1, 0), |(p, size)| (size, (p - 1) * size));
        let mut values = values.to_vec();
        values.extend([limit.into(), offset.into()]);
        let mut stmt = conn
            .prepare(&format!(
                "SELECT r.cid{from} ORDER BY r.start_time, r.cid LIMIT ? OFFSET ?"
            ))
            .unwrap();
        let cids: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(values), |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        (total, cids)
    };
    use rusqlite::types::Value as V;
    for round in 0..300 {
        let campaign = if round % 5 == 0 { other } else { t.campaign };
        let page = match rng.below(4) {
            0 => None,
            _ => {
                let size = [1, 7, 20, 0][rng.below(4) as usize];
                let page = 1 + rng.below(if size == 20 { 130 } else { 400 }) as i64;
                Some((page, size))
            }
        };
        let paging = page.map_or(String::new(), |(p, size)| {
            format!("&_page={p}&_pagesize={size}")
        });
        let mut query = Vec::new();
        let mut filter = vec!["r.campaign_id = ?".to_string()];
        let mut values = vec![V::Integer(campaign)];
        let day = 1 + rng.below(28);
        // Whole days, or cut into days (the counts cover whole days only), or open on a side.
        let hour = |h: u64| format!(" {h:02}:30:00");
        let range = match rng.below(8) {
            0 => Some((
                Some(format!("2013-05-{day:02}")),
                Some(format!("2013-05-{:02}", day + rng.below(4))),
            )),
            1 => Some((
                Some(format!("2013-05-{day:02}{}", hour(rng.below(3)))),
                Some(format!(
                    "2013-05-{:02}{}",
                    day + rng.below(3),
                    hour(rng.below(3))
                )),
            )),
            2 => Some((
                Some(format!("2013-05-{day:02}{}", hour(rng.below(3)))),
                None,
            )),
            3 => Some((
                None,
                Some(format!("2013-05-{day:02}{}", hour(rng.below(3)))),
            )),
            _ => None,
        };
        let search = rng.below(2) == 0;
        let path = if search {
            let key = [
                callers[rng.below(5) as usize],
                agents[0].1.as_str(),
                "nobody",
            ][rng.below(3) as usize]
                .to_string();
            query.push(format!("key={key}"));
            filter.push(
                "(r.caller = ? OR r.agent_id = (SELECT id FROM agents WHERE number = ?))".into(),
            );
            values.extend([V::Text(key.clone()), V::Text(key)]);
            format!("/1.0/recording_campaigns/{campaign}/search")
        } else {
            if rng.below(3) == 0 {
                let caller = callers[rng.below(5) as usize];
                query.push(format!("caller={caller}"));
                filter.push("r.caller = ?".into());
                values.push(V::Text(caller.into()));
            }
            if rng.below(3) == 0 {
                let (_, number) = &agents[rng.below(agents.len() as u64) as usize];
                query.push(format!("agent_no={number}"));
                filter.push("a.number = ?".into());
                values.push(V::Text(number.clone()));
            }
            format!("/1.0/recording_campaigns/{campaign}/")
        };
        let stored = |t: &String| match t.len() {
            10 => format!("{t} 00:00:00"),
            _ => t.clone(),
        };
        if let Some((from, until)) = &range {
            if let Some(from) = from {
                query.push(format!("from={}", from.replace(' ', "%20")));
                filter.push("r.start_time >= ?".into());
                values.push(V::Text(stored(from)));
            }
            if let Some(until) = until {
                query.push(format!("until={}", until.replace(' ', "%20")));
                filter.push("r.start_time < ?".into());
                values.push(V::Text(stored(until)));
            }
        }
        let url = format!("{path}?{}{paging}", query.join("&"));
        let expected = oracle(&filter.join(" AND "), &values, page);
        assert_eq!(t.cids_at(&url), expected, "{url}");
    }
    // Deep pages of the whole campaign, on both sides of where they start at their day.
    let all = [V::Integer(t.campaign)];
    for (page, size) in (280..350)
        .step_by(3)
        .map(|p| (p, 7))
        .chain((95..125).map(|p| (p, 20)))
    {
        let url = format!("{}?_page={page}&_pagesize={size}", t.path());
        let expected = oracle("r.campaign_id = ?", &all, Some((page, size)));
        assert_eq!(t.cids_at(&url), expected, "{url}");
    }
}
