//! Change events delivered to webhooks (README, "Change events: webhooks"), under both
//! runtimes, to a receiver on loopback inside the test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::stores::fresh_db;
use crate::support::Server;

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// What the receiver answers, and whether it holds its answers back.
struct Behaviour {
    status: u16,
    held: bool,
}

/// An HTTP receiver on a loopback port of its own.
struct Receiver {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<(Mutex<Behaviour>, Condvar)>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let behaviour = Arc::new((
            Mutex::new(Behaviour {
                status: 200,
                held: false,
            }),
            Condvar::new(),
        ));
        let (r, b) = (received.clone(), behaviour.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (r, b) = (r.clone(), b.clone());
                std::thread::spawn(move || answer(stream, &r, &b));
            }
        });
        Self {
            port,
            received,
            behaviour,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The one `allowed_outbound_hosts` entry for this receiver.
    fn allowed(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn answer_with(&self, status: u16) {
        self.behaviour.0.lock().unwrap().status = status;
    }

    /// Hold every answer until [`Receiver::release`].
    fn hold(&self) {
        self.behaviour.0.lock().unwrap().held = true;
    }

    fn release(&self) {
        self.behaviour.0.lock().unwrap().held = false;
        self.behaviour.1.notify_all();
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Wait (up to 30 s) until `n` requests have arrived; all of them.
    #[track_caller]
    fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{n} deliveries expected, {} arrived",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What arrived once `n` requests have and a moment more has passed (for a test that
    /// wants no more than `n`): longer than the deliveries' back-off (200 ms, then 800 ms,
    /// `components/common/src/events.rs`), so that a third attempt sent in error would be seen
    /// (a wait of 300 ms let it come after the test had looked).
    fn settled(&self, n: usize) -> Vec<Received> {
        self.wait_for(n);
        std::thread::sleep(Duration::from_millis(1_200));
        self.received()
    }
}

fn answer(
    stream: std::net::TcpStream,
    received: &Mutex<Vec<Received>>,
    behaviour: &(Mutex<Behaviour>, Condvar),
) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split(' ').nth(1).unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    received.lock().unwrap().push(Received {
        path,
        headers,
        body,
    });
    let (lock, released) = behaviour;
    let status = {
        let mut b = lock.lock().unwrap();
        while b.held {
            b = released.wait(b).unwrap();
        }
        b.status
    };
    let mut stream = reader.into_inner();
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
}

fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// The subscription's deliveries (`GET .../deliveries`), once `done` says they are complete
/// (attempts are recorded after the receiver answers), or as they are after 20 s.
fn deliveries_once(s: &Server, hook: i64, done: impl Fn(&Value) -> bool) -> Value {
    let path = format!("/1.0/webhooks/{hook}/deliveries");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let deliveries = s.get(&path).json();
        if done(&deliveries) || Instant::now() > deadline {
            return deliveries;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How many attempts the newest delivery has.
fn attempts_of_newest(deliveries: &Value) -> usize {
    deliveries["items"][0]["attempts"]
        .as_array()
        .map_or(0, Vec::len)
}

fn serve_for(receiver: &Receiver) -> Server {
    Server::start_with(|c| c.with_variable("webhook_allowed_hosts", &receiver.allowed()))
}

/// Subscribe `receiver` (path `/hook`) to `events`; the subscription's id.
fn subscribe(s: &Server, receiver: &Receiver, events: Value) -> i64 {
    let r = s.post(
        "/1.0/webhooks/",
        &json!({"url": receiver.url("/hook"), "events": events, "secret": "s3cret"}),
    );
    r.expect(201);
    let hook = r.json();
    assert!(hook.get("secret").is_none(), "the secret is never shown");
    hook["id"].as_i64().unwrap()
}

#[test]
fn events_arrive_signed_after_each_committed_write() {
    let receiver = Receiver::start();
    let s = serve_for(&receiver);
    let hook = subscribe(&s, &receiver, json!(["*"]));
    let shown = s.get(&format!("/1.0/webhooks/{hook}")).json();
    assert_eq!(
        shown,
        json!({"id": hook, "url": receiver.url("/hook"), "events": ["*"], "active": true})
    );

    let user = s
        .post(
            "/1.0/users/",
            &json!({"firstname": "Bob", "lastname": "Ross"}),
        )
        .json()["id"]
        .as_i64()
        .unwrap();
    // Each request's deliveries are sent after its answer, by whichever instance served it,
    // so events of different requests may overtake each other: wait for each in turn.
    receiver.wait_for(1);
    s.put(&format!("/1.0/users/{user}"), &json!({"lastname": "Dylan"}))
        .expect(200);
    receiver.wait_for(2);
    s.delete(&format!("/1.0/users/{user}")).expect(200);

    let got = receiver.wait_for(3);
    let events: Vec<Value> = got.iter().map(Received::json).collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["users_created", "users_edited", "users_deleted"]);
    for (r, e) in got.iter().zip(&events) {
        assert_eq!(r.path, "/hook");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("x-xivo-event"), e["event"].as_str());
        assert_eq!(r.header("x-xivo-delivery"), e["id"].as_str());
        let expected = signature("s3cret", &r.body);
        assert_eq!(r.header("x-xivo-signature"), Some(expected.as_str()));
        assert_eq!(e["resource"], "users");
        assert_eq!(e["resource_id"], user);
        assert!(e["at"].as_str().unwrap().len() == 19, "{}", e["at"]);
    }
    assert_eq!(events[0]["data"]["lastname"], "Ross");
    assert_eq!(events[1]["data"]["lastname"], "Dylan");
    assert_eq!(
        events[2]["data"]["lastname"], "Dylan",
        "a deletion sends what was"
    );

    // The deliveries, each attempt recorded once it is over.
    let deliveries = deliveries_once(&s, hook, |d| d["total"] == 3);
    assert_eq!(deliveries["total"], 3);
    let first = deliveries["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == events[0]["id"])
        .unwrap();
    assert_eq!(first["event"], "users_created");
    assert_eq!(first["id"], events[0]["id"]);
    assert_eq!(first["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(first["attempts"][0]["status"], 200);
    assert_eq!(first["attempts"][0]["error"], Value::Null);
}

#[test]
fn subscriptions_choose_their_events() {
    let receiver = Receiver::start();
    let s = serve_for(&receiver);
    subscribe(&s, &receiver, json!(["agents_created"]));
    let quiet = subscribe(&s, &receiver, json!(["*"]));
    s.put(&format!("/1.0/webhooks/{quiet}"), &json!({"active": false}))
        .expect(200);
    s.post(
        "/1.0/CallCenter/queues/",
        &json!({"name": "q", "number": "3000"}),
    )
    .expect(201);
    s.post("/1.0/CallCenter/agents/", &json!({"number": "2123"}))
        .expect(201);
    let got = receiver.settled(1);
    assert_eq!(
        got.len(),
        1,
        "only the active subscription to agents_created"
    );
    assert_eq!(got[0].json()["event"], "agents_created");
    assert_eq!(got[0].json()["data"]["number"], "2123");
}

/// The receiver holds its answer: the client has its own all the same.
#[test]
fn the_client_does_not_wait_for_the_receiver() {
    let receiver = Receiver::start();
    let s = serve_for(&receiver);
    subscribe(&s, &receiver, json!(["*"]));
    receiver.hold();
    s.post(
        "/1.0/voicemails/",
        &json!({"mailbox": "1000", "fullname": "B"}),
    )
    .expect(201);
    let got = receiver.wait_for(1);
    assert_eq!(got[0].json()["event"], "voicemails_created");
    // The receiver has not answered yet, and the client has its answer: another request
    // goes through too.
    s.get("/1.0/voicemails/").expect(200);
    receiver.release();
}

/// An event goes to all its subscriptions at once: each gets its delivery while none has
/// been answered (one after the other, the second would wait for the first's answer).
#[test]
fn an_event_goes_to_all_its_subscriptions_at_once() {
    let receiver = Receiver::start();
    let s = serve_for(&receiver);
    let paths = ["/a", "/b", "/c"];
    let hooks: Vec<i64> = paths
        .iter()
        .map(|path| {
            let r = s.post(
                "/1.0/webhooks/",
                &json!({"url": receiver.url(path), "secret": "s3cret"}),
            );
            r.expect(201);
            r.json()["id"].as_i64().unwrap()
        })
        .collect();
    receiver.hold();
    s.post("/1.0/CallCenter/agents/", &json!({"number": "1"}))
        .expect(201);
    let got = receiver.wait_for(3);
    let mut arrived: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
    arrived.sort_unstable();
    assert_eq!(arrived, paths, "one delivery to each, none answered yet");
    receiver.release();
    for hook in hooks {
        let deliveries = deliveries_once(&s, hook, |d| attempts_of_newest(d) == 1);
        assert_eq!(deliveries["total"], 1);
        assert_eq!(deliveries["items"][0]["attempts"][0]["status"], 200);
    }
}

/// A subscription keeps its latest 50 deliveries, with their attempts.
#[test]
fn a_subscription_keeps_its_latest_fifty_deliveries() {
    let receiver = Receiver::start();
    let s = serve_for(&receiver);
    let hook = subscribe(&s, &receiver, json!(["agents_created"]));
    // Each delivery arrived and recorded before the next write: deliveries of different
    // requests may otherwise arrive, and be recorded, in another order (README, "Change
    // events: webhooks").
    let mut got = Vec::new();
    for n in 1..=52 {
        s.post("/1.0/CallCenter/agents/", &json!({"number": n.to_string()}))
            .expect(201);
        got = receiver.wait_for(n);
        let id = got[n - 1].header("x-xivo-delivery").unwrap().to_string();
        deliveries_once(&s, hook, |d| {
            d["items"][0]["id"] == id.as_str() && attempts_of_newest(d) == 1
        });
    }
    let deliveries = deliveries_once(&s, hook, |d| d["total"] == 50);
    assert_eq!(deliveries["total"], 50);
    assert_eq!(
        deliveries["items"][0]["id"],
        got[51].header("x-xivo-delivery").unwrap()
    );
    let page = s
        .get(&format!(
            "/1.0/webhooks/{hook}/deliveries?_page=3&_pagesize=20"
        ))
        .json();
    let oldest = &page["items"][9];
    assert_eq!(oldest["id"], got[2].header("x-xivo-delivery").unwrap());
    assert_eq!(oldest["attempts"].as_array().unwrap().len(), 1);
}

#[test]
fn a_failing_receiver_is_retried_and_the_failures_recorded() {
    let receiver = Receiver::start();
    let s = serve_for(&receiver);
    let hook = subscribe(&s, &receiver, json!(["*"]));
    receiver.answer_with(500);
    s.post("/1.0/users/", &json!({"firstname": "A"}))
        .expect(201);
    let got = receiver.wait_for(3);
    let delivery = got[0].header("x-xivo-delivery").unwrap().to_string();
    assert!(got
        .iter()
        .all(|r| r.header("x-xivo-delivery") == Some(&delivery)));
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "the same body each time"
    );

    let attempts =
        deliveries_once(&s, hook, |d| attempts_of_newest(d) == 3)["items"][0]["attempts"].clone();
    let statuses: Vec<&Value> = attempts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["status"])
        .collect();
    assert_eq!(statuses, [&json!(500), &json!(500), &json!(500)]);

    // Redelivery, once the receiver is back.
    receiver.answer_with(204);
    let r = s.send_json(
        "POST",
        &format!("/1.0/webhooks/{hook}/deliveries/{delivery}/redeliver"),
        &json!({}),
    );
    r.expect(200);
    let redelivered = r.json();
    assert_eq!(redelivered["id"], delivery.as_str());
    assert_eq!(redelivered["attempts"].as_array().unwrap().len(), 4);
    assert_eq!(redelivered["attempts"][3]["status"], 204);
    let got = receiver.wait_for(4);
    assert_eq!(got[3].body, got[0].body);
    let missing = format!("/1.0/webhooks/{hook}/deliveries/nope/redeliver");
    s.send_json("POST", &missing, &json!({})).expect_empty(404);
}

#[test]
fn no_event_for_a_refused_write() {
    let receiver = Receiver::start();
    let s = serve_for(&receiver);
    subscribe(&s, &receiver, json!(["*"]));
    s.post("/1.0/users/", &json!({"nope": 1})).expect(400);
    s.post("/1.0/voicemails/", &json!({"fullname": "no mailbox"}))
        .expect(400);
    s.post("/1.0/CallCenter/agents/", &json!({"number": "1"}))
        .expect(201);
    let got = receiver.settled(1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["event"], "agents_created");
}

#[test]
fn subscriptions_are_checked() {
    let receiver = Receiver::start();
    let s = serve_for(&receiver);
    let other = format!("http://127.0.0.1:{}/hook", receiver.port.wrapping_add(1));
    for (body, key) in [
        (json!({"url": other, "secret": "s"}), "url"),
        (json!({"url": "ftp://127.0.0.1/x", "secret": "s"}), "url"),
        (json!({"url": "not a url", "secret": "s"}), "url"),
        (json!({"url": receiver.url("/"), "secret": ""}), "secret"),
        (
            json!({"url": receiver.url("/"), "secret": "s", "events": ["nope"]}),
            "events",
        ),
        (
            json!({"url": receiver.url("/"), "secret": "s", "events": []}),
            "events",
        ),
    ] {
        s.post("/1.0/webhooks/", &body)
            .expect_error(400, &[&format!("Incorrect parameters sent: {key}")]);
    }
    s.post("/1.0/webhooks/", &json!({"url": receiver.url("/")}))
        .expect_error(400, &["Missing parameters: secret"]);
    assert_eq!(
        s.get("/1.0/webhooks/").json(),
        json!({"total": 0, "items": []})
    );

    // A PUT without the secret keeps it: deliveries stay signed with it.
    let hook = subscribe(&s, &receiver, json!(["users_created"]));
    s.put(&format!("/1.0/webhooks/{hook}"), &json!({"events": ["*"]}))
        .expect(200);
    s.post("/1.0/users/", &json!({"firstname": "A"}))
        .expect(201);
    let got = receiver.wait_for(1);
    let expected = signature("s3cret", &got[0].body);
    assert_eq!(got[0].header("x-xivo-signature"), Some(expected.as_str()));
    s.delete(&format!("/1.0/webhooks/{hook}")).expect(200);
    s.get(&format!("/1.0/webhooks/{hook}/deliveries"))
        .expect_empty(404);
}

/// A subscription whose URL the deployment no longer allows: the runtime refuses the
/// delivery, and the refusal is recorded.
#[test]
fn a_refused_destination_is_recorded() {
    let receiver = Receiver::start();
    let db = fresh_db();
    let s = Server::start_with(|c| {
        c.with_database(&db)
            .with_variable("webhook_allowed_hosts", &receiver.allowed())
    });
    let hook = subscribe(&s, &receiver, json!(["*"]));
    drop(s);
    let s = Server::start_with(|c| {
        c.with_database(&db)
            .with_variable("webhook_allowed_hosts", "http://127.0.0.1:1")
    });
    s.post("/1.0/users/", &json!({"firstname": "A"}))
        .expect(201);
    let attempts =
        deliveries_once(&s, hook, |d| attempts_of_newest(d) == 3)["items"][0]["attempts"].clone();
    for attempt in attempts.as_array().unwrap() {
        assert_eq!(attempt["status"], Value::Null);
        assert!(
            attempt["error"]
                .as_str()
                .unwrap()
                .contains("HttpRequestDenied"),
            "{attempt}"
        );
    }
    assert!(receiver.received().is_empty());
}

/// Users imported from CSV are announced as any creation (issue 26).
#[test]
fn imported_users_are_announced_each() {
    let receiver = Receiver::start();
    let s = serve_for(&receiver);
    subscribe(&s, &receiver, json!(["users_created"]));
    let r = s.send(
        "POST",
        "/1.0/users/import",
        &[("Content-Type", "text/csv")],
        Some(b"firstname,lastname\nJean,Dupont\nAnne,Martin\n"),
    );
    r.expect(201);
    let ids = r.json();
    let got = receiver.settled(2);
    let mut events: Vec<Value> = got.iter().map(Received::json).collect();
    events.sort_by_key(|e| e["resource_id"].as_i64());
    assert_eq!(events.len(), 2);
    for (event, (id, name)) in events
        .iter()
        .zip([(&ids[0], "Dupont"), (&ids[1], "Martin")])
    {
        assert_eq!(event["event"], "users_created");
        assert_eq!(&event["resource_id"], id);
        assert_eq!(event["data"]["lastname"], name);
    }
}
