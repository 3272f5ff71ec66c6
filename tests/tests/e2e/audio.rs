//! Recording audio (README, "Recording audio"): upload, download whole and in ranges, HEAD,
//! deletion, the refusals, and what is left in Spin's key-value store, under both runtimes.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::client::{connect, send, Response};
use crate::stores::{fresh_db, fresh_key_value};
use crate::support::{start_process, Config, Server};

/// A chunk in the key-value store, unless `audio_chunk_bytes` says otherwise
/// (components/audio/src/audio.rs).
pub const CHUNK: usize = 1 << 20;

struct Setup {
    s: Server,
    campaign: i64,
}

impl Setup {
    fn new() -> Self {
        Self::with(Server::start())
    }

    fn with(s: Server) -> Self {
        let campaign = recording_campaign(|method, path, body| {
            let r = match body {
                Some(b) => s.send_json(method, path, &b),
                None => s.send(method, path, &[], None),
            };
            (r.status, r.json_or_null())
        });
        Self { s, campaign }
    }

    fn audio(&self, cid: &str) -> String {
        format!("/1.0/recording_campaigns/{}/{cid}/audio", self.campaign)
    }

    fn recording(&self, cid: &str) -> serde_json::Value {
        let path = format!("/1.0/recording_campaigns/{}/{cid}", self.campaign);
        self.s.get(&path).expect(200).json()
    }

    fn put(&self, cid: &str, content_type: &str, bytes: &[u8]) -> Response {
        self.s.send(
            "PUT",
            &self.audio(cid),
            &[("Content-Type", content_type)],
            Some(bytes),
        )
    }

    fn get(&self, cid: &str, headers: &[(&str, &str)]) -> Response {
        self.s.send("GET", &self.audio(cid), headers, None)
    }
}

/// The audio's paths reach the audio component (`spin.toml`'s
/// `/1.0/recording_campaigns/:campaign/:cid/audio`), the campaign and the cid as sent; the
/// paths around them stay the campaigns component's. Spin's routing, which the test host
/// follows (`tests/src/routes.rs`).
#[test]
fn audio_paths_reach_the_audio_component_and_only_they() {
    let t = Setup::new();
    let recordings = format!("/1.0/recording_campaigns/{}/", t.campaign);
    let body = json!({"cid": "x y", "agent_no": "2123"});
    t.s.post(&recordings, &body).expect(201);
    // A trailing slash is the same route; the cid reaches the component percent-encoded.
    let path = format!("{recordings}x%20y/audio/");
    t.s.send(
        "PUT",
        &path,
        &[("Content-Type", "audio/wav")],
        Some(b"RIFF"),
    )
    .expect(201);
    assert_eq!(t.recording("x%20y")["audio"]["bytes"], 4);
    let log = t.s.log_with("audio", "x%20y/audio");
    assert!(log.contains("\"component\":\"audio\""), "{log}");
    // A path that goes on, or a last segment that is not `audio`: the campaigns component's.
    for other in ["r1/audio/x", "r1/audiox", "r1/audio/x/"] {
        t.s.get(&format!("{recordings}{other}")).expect_empty(404);
    }
    let log = t.s.log_with("campaigns", "r1/audiox");
    assert!(log.contains("r1/audiox"), "{log}");
    // An empty cid (`//`) is a cid: no such recording.
    t.s.get(&format!("{recordings}/audio")).expect_empty(404);
    t.s.get("/1.0/recording_campaigns/x/r1/audio")
        .expect_empty(404);
}

/// An agent, a campaign and recordings `r1`, `r2` and `r3` in it, through `call`.
pub fn recording_campaign(
    call: impl Fn(&str, &str, Option<serde_json::Value>) -> (u16, serde_json::Value),
) -> i64 {
    let (status, _) = call(
        "POST",
        "/1.0/CallCenter/agents/",
        Some(json!({"number": "2123", "firstname": "Chuck"})),
    );
    assert_eq!(status, 201);
    let (status, id) = call(
        "POST",
        "/1.0/recording_campaigns/",
        Some(json!({"campaign_name": "c", "activated": true, "base_filename": "f"})),
    );
    assert_eq!(status, 201);
    let campaign = id.as_i64().unwrap();
    for cid in ["r1", "r2", "r3"] {
        let body = json!({"cid": cid, "agent_no": "2123", "start_time": "2013-01-22 14:53:33",
            "end_time": "2013-01-22 14:55:00"});
        let (status, _) = call(
            "POST",
            &format!("/1.0/recording_campaigns/{campaign}/"),
            Some(body),
        );
        assert_eq!(status, 201);
    }
    campaign
}

/// `n` bytes that differ from one place to the next, and from one `seed` to another.
pub fn audio_bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[i % 4] ^ seed)
        .collect()
}

pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The generations the keys hold chunks of, and how many chunks each.
pub fn generations(keys: &[String]) -> Vec<usize> {
    let mut by_generation = std::collections::BTreeMap::<&str, usize>::new();
    for key in keys {
        let generation = key.split('/').nth(1).unwrap();
        *by_generation.entry(generation).or_default() += 1;
    }
    let mut counts: Vec<usize> = by_generation.into_values().collect();
    counts.sort();
    counts
}

#[test]
fn upload_download_replace_delete() {
    let t = Setup::new();
    assert!(t.recording("r1").get("audio").is_none(), "no audio, no key");
    let before =
        t.s.get(&format!("/1.0/recording_campaigns/{}/r1", t.campaign))
            .header("etag")
            .unwrap()
            .to_string();

    // Three chunks and a bit: the pieces meet at the chunk boundaries.
    let first = audio_bytes(3 * CHUNK + 100, 1);
    let r = t.put("r1", "audio/wav", &first);
    r.expect(201);
    let audio =
        json!({"content_type": "audio/wav", "bytes": first.len(), "sha256": sha256(&first)});
    assert_eq!(r.json(), audio);
    assert_eq!(t.recording("r1")["audio"], audio);
    let after =
        t.s.get(&format!("/1.0/recording_campaigns/{}/r1", t.campaign))
            .header("etag")
            .unwrap()
            .to_string();
    assert_ne!(before, after, "the recording's ETag moves with its audio");
    assert_eq!(generations(&t.s.key_value.keys("audio/")), vec![4]);

    let r = t.get("r1", &[]);
    r.expect(200);
    assert!(r.body == first, "the bytes come back as sent");
    assert_eq!(r.header("content-type"), Some("audio/wav"));
    assert_eq!(
        r.header("content-length"),
        Some(first.len().to_string().as_str())
    );
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    let etag = format!("\"{}\"", sha256(&first));
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    t.get("r1", &[("If-None-Match", &etag)]).expect_empty(304);

    // A replacement, of another type: 200, and only its chunks are left.
    let second = audio_bytes(CHUNK / 2, 2);
    let r = t.put("r1", "Audio/MPEG; bitrate=128", &second);
    r.expect(200);
    assert_eq!(r.json()["content_type"], "audio/mpeg");
    let r = t.get("r1", &[("Accept", "audio/*")]);
    r.expect(200);
    assert!(r.body == second);
    assert_eq!(r.header("content-type"), Some("audio/mpeg"));
    assert_eq!(generations(&t.s.key_value.keys("audio/")), vec![1]);

    // An empty audio is an audio of no bytes.
    t.put("r2", "audio/ogg", b"").expect(201);
    let r = t.get("r2", &[]);
    r.expect(200);
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-length"), Some("0"));

    let r = t.s.delete(&t.audio("r1"));
    r.expect(200);
    assert_eq!(r.json(), json!("Deleted: True"));
    t.get("r1", &[]).expect_empty(404);
    t.s.delete(&t.audio("r1")).expect_empty(404);
    assert!(t.recording("r1").get("audio").is_none());
    assert!(t.s.key_value.keys("audio/").is_empty());
    assert_eq!(t.recording("r2")["audio"]["bytes"], 0);
}

#[test]
fn ranges_and_head() {
    let t = Setup::new();
    let bytes = audio_bytes(2 * CHUNK + 10, 3);
    let n = bytes.len();
    t.put("r1", "audio/wav", &bytes).expect(201);

    let ranged = |range: &str| t.get("r1", &[("Range", range)]);
    let part = |range: &str, first: usize, last: usize| {
        let r = ranged(range);
        r.expect(206);
        assert!(r.body == bytes[first..=last], "{range}");
        let expected = format!("bytes {first}-{last}/{n}");
        assert_eq!(
            r.header("content-range"),
            Some(expected.as_str()),
            "{range}"
        );
        assert_eq!(
            r.header("content-length"),
            Some((last - first + 1).to_string().as_str())
        );
    };
    part("bytes=0-9", 0, 9);
    // Across a chunk boundary, and to the end of the last chunk.
    part(
        &format!("bytes={}-{}", CHUNK - 5, CHUNK + 4),
        CHUNK - 5,
        CHUNK + 4,
    );
    part(&format!("bytes={}-", CHUNK + 1), CHUNK + 1, n - 1);
    part("bytes=-5", n - 5, n - 1);
    part(&format!("bytes=5-{}", n + 1000), 5, n - 1);

    for unsatisfiable in [format!("bytes={n}-"), "bytes=-0".to_string()] {
        let r = ranged(&unsatisfiable);
        r.expect_empty(416);
        let expected = format!("bytes */{n}");
        assert_eq!(r.header("content-range"), Some(expected.as_str()));
    }
    for whole in ["bytes=0-1,5-6", "lines=1-2", "bytes=9-2"] {
        let r = ranged(whole);
        r.expect(200);
        assert_eq!(r.body.len(), n, "{whole}");
    }

    let head = t.s.send("HEAD", &t.audio("r1"), &[], None);
    head.expect_empty(200);
    assert_eq!(head.header("content-length"), Some(n.to_string().as_str()));
    assert_eq!(head.header("content-type"), Some("audio/wav"));
    let etag = format!("\"{}\"", sha256(&bytes));
    assert_eq!(head.header("etag"), Some(etag.as_str()));
    let head =
        t.s.send("HEAD", &t.audio("r1"), &[("Range", "bytes=-100")], None);
    head.expect_empty(206);
    assert_eq!(head.header("content-length"), Some("100"));
    t.s.send("HEAD", &t.audio("r2"), &[], None)
        .expect_empty(404);
}

#[test]
fn refusals_change_nothing() {
    let t = Setup::with(Server::start_with(|c| {
        c.with_variable("audio_max_bytes", "3000")
    }));
    let kept = audio_bytes(1000, 4);
    t.put("r1", "audio/wav", &kept).expect(201);

    for bad in [
        "text/plain",
        "application/json",
        "audio/",
        "audio/*",
        "audiox/wav",
    ] {
        t.put("r1", bad, b"RIFF").expect_empty(415);
    }
    let r = t.s.send("PUT", &t.audio("r1"), &[], Some(b"RIFF"));
    r.expect_empty(415);
    // Past the limit, announced: 413 at once.
    t.put("r1", "audio/wav", &audio_bytes(3001, 5))
        .expect_empty(413);
    // Past the limit, not announced (chunked): 413 once the limit is passed.
    let r = chunked_put(&t.s, &t.audio("r1"), "audio/wav", &[&[1; 2000], &[2; 2000]]);
    r.expect_empty(413);
    // Exactly the limit is fine, chunked or not.
    let r = chunked_put(&t.s, &t.audio("r3"), "audio/wav", &[&[1; 1000], &[2; 2000]]);
    r.expect(201);
    assert_eq!(r.json()["bytes"], 3000);

    t.get("r1", &[("Accept", "application/json")])
        .expect_empty(406);
    t.get("r1", &[("Accept", "audio/mpeg")]).expect_empty(406);
    t.get("r1", &[("Accept", "audio/wav, application/json")])
        .expect(200);
    t.get("r2", &[]).expect_empty(404);
    t.put("nope", "audio/wav", b"RIFF").expect_empty(404);
    let other = format!("/1.0/recording_campaigns/{}/r1/audio", t.campaign + 1);
    t.s.send("GET", &other, &[], None).expect_empty(404);
    t.s.send(
        "PUT",
        &other,
        &[("Content-Type", "audio/wav")],
        Some(b"RIFF"),
    )
    .expect_empty(404);
    let r = t.s.send(
        "POST",
        &t.audio("r1"),
        &[("Content-Type", "audio/wav")],
        Some(b"x"),
    );
    r.expect_empty(405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, PUT, DELETE"));

    let r = t.get("r1", &[]);
    assert!(r.body == kept, "what was refused changed nothing");
    assert_eq!(generations(&t.s.key_value.keys("audio/")), vec![1, 1]);
}

/// Chunks of `audio_chunk_bytes` (README, "Recording audio"): an audio uploaded in small chunks
/// is stored and read back in them, whole and across their boundaries; and every audio keeps
/// the size it was written with, read and replaced by an instance whose variable says another
/// (two servers over one database and store, as during a change of the variable).
/// `application/octet-stream`, as generated clients send a file: the type is read from the
/// audio's first bytes, or stays `application/octet-stream`; and a client that accepts only
/// bytes gets them as `application/octet-stream`.
#[test]
fn bytes_of_no_stated_type_are_recognised() {
    let t = Setup::new();
    let mut wav = b"RIFF\x24\x10\x00\x00WAVEfmt ".to_vec();
    wav.extend(audio_bytes(4000, 7));
    let mut mp3 = b"ID3\x04\x00\x00".to_vec();
    mp3.extend(audio_bytes(500, 8));
    let unknown = audio_bytes(600, 9);
    for (cid, bytes, found) in [
        ("r1", &wav, "audio/wav"),
        ("r2", &mp3, "audio/mpeg"),
        ("r3", &unknown, "application/octet-stream"),
    ] {
        let r = t.put(cid, "application/octet-stream", bytes);
        r.expect(201);
        assert_eq!(r.json()["content_type"], found, "{cid}");
        assert_eq!(t.recording(cid)["audio"]["content_type"], found, "{cid}");
        let whole = t.get(cid, &[]);
        whole.expect(200);
        assert_eq!(whole.header("content-type"), Some(found));
        assert!(whole.body == *bytes, "{cid}");
    }
    let bytes = t.get("r1", &[("Accept", "application/octet-stream")]);
    bytes.expect(200);
    assert_eq!(
        bytes.header("content-type"),
        Some("application/octet-stream")
    );
    assert!(bytes.body == wav);
    let part = t.get(
        "r1",
        &[
            ("Accept", "application/octet-stream"),
            ("Range", "bytes=0-11"),
        ],
    );
    part.expect(206);
    assert_eq!(
        part.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(part.body, &wav[..12]);
    // Its own type first, when both are allowed.
    let both = t.get("r1", &[("Accept", "application/octet-stream, audio/wav")]);
    assert_eq!(both.header("content-type"), Some("audio/wav"));
    t.get("r1", &[("Accept", "application/json")])
        .expect_empty(406);

    // An `audio/*` type said is kept, whatever the bytes.
    let r = t.put("r3", "audio/x-gsm", &wav);
    r.expect(200);
    assert_eq!(r.json()["content_type"], "audio/x-gsm");
}

#[test]
fn audio_in_chunks_of_the_configured_size() {
    let db = fresh_db();
    let key_value = fresh_key_value();
    let shared = |c: Config| c.with_database(&db).with_key_value(&key_value);
    let small = Setup::with(Server::start_with(|c| {
        shared(c).with_variable("audio_chunk_bytes", "4096")
    }));
    let large = Server::start_with(shared);

    let first = audio_bytes(3 * 4096 + 10, 11);
    small.put("r1", "audio/wav", &first).expect(201);
    assert_eq!(generations(&key_value.keys("audio/")), vec![4]);
    let path = small.audio("r1");
    for server in [&small.s, &large] {
        assert!(server.get(&path).expect(200).body == first);
        let r = server.send("GET", &path, &[("Range", "bytes=4090-8200")], None);
        r.expect(206);
        assert!(r.body == first[4090..=8200]);
    }

    // Replaced by the instance of 1 MiB chunks: one chunk; read back by the other.
    let second = audio_bytes(CHUNK + 1, 12);
    let r = large.send(
        "PUT",
        &path,
        &[("Content-Type", "audio/wav")],
        Some(&second),
    );
    r.expect(200);
    assert_eq!(generations(&key_value.keys("audio/")), vec![2]);
    let r = small.get("r1", &[("Range", &format!("bytes={}-", CHUNK - 2))]);
    r.expect(206);
    assert!(r.body == second[CHUNK - 2..]);

    // A size the variable may not set is not used: 1 MiB chunks, and a line in the log.
    let odd = Server::start_with(|c| shared(c).with_variable("audio_chunk_bytes", "12"));
    odd.send("PUT", &path, &[("Content-Type", "audio/wav")], Some(&first))
        .expect(200);
    assert_eq!(generations(&key_value.keys("audio/")), vec![1]);
    assert!(odd.get(&path).body == first);
    let log = odd.log_with("audio", "audio_chunk_bytes = \"12\"");
    assert!(log.contains("audio_chunk_bytes = \"12\""), "{log}");

    // Deleted: every chunk goes, whatever its size.
    small.s.delete(&path).expect(200);
    assert!(key_value.keys("audio/").is_empty());
}

/// A PUT whose body is sent in these pieces with `Transfer-Encoding: chunked` (no length).
fn chunked_put(s: &Server, path: &str, content_type: &str, pieces: &[&[u8]]) -> Response {
    let mut stream = connect(s.addr);
    let mut request = format!(
        "PUT {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: {content_type}\r\n\
         Transfer-Encoding: chunked\r\n\r\n",
        s.addr
    )
    .into_bytes();
    for piece in pieces {
        request.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        request.extend_from_slice(piece);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    stream.write_all(&request).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let response = Response::parse(&raw);
    crate::contract::check("PUT", path, &response);
    response
}

#[test]
fn a_recording_takes_its_audio_with_it() {
    let t = Setup::new();
    t.put("r1", "audio/wav", &audio_bytes(CHUNK + 1, 6))
        .expect(201);
    t.put("r2", "audio/wav", &audio_bytes(10, 7)).expect(201);
    t.s.delete(&format!("/1.0/recording_campaigns/{}/r1", t.campaign))
        .expect(200);
    assert_eq!(generations(&t.s.key_value.keys("audio/")), vec![1]);

    // Retention: r2 and r3 ended in 2013; a purge deletes them, r2's audio with it.
    t.s.put(
        &format!("/1.0/recording_campaigns/{}", t.campaign),
        &json!({"retention_days": 30}),
    )
    .expect(200);
    let r = t.s.send_json(
        "POST",
        &format!("/1.0/recording_campaigns/{}/purge", t.campaign),
        &json!({}),
    );
    assert_eq!(r.json(), json!({"deleted": 2, "remaining": 0}));
    assert!(t.s.key_value.keys("audio/").is_empty());
    let leftovers: i64 =
        t.s.sql()
            .query_row("SELECT COUNT(*) FROM audio_leftovers", [], |r| r.get(0))
            .unwrap();
    assert_eq!(leftovers, 0);
}

/// A replacement cut off by the server's death (SIGKILL, mid-upload, some of its chunks
/// written) leaves the old audio whole and served; the next upload clears what it left.
#[test]
fn a_replacement_killed_midway_leaves_the_old_audio() {
    let db = fresh_db();
    let key_value = fresh_key_value();
    let server = start_process(&db, &key_value);
    let call = |method: &str, path: &str, body: Option<serde_json::Value>| {
        let body = body.map(|b| serde_json::to_vec(&b).unwrap());
        let headers: &[(&str, &str)] = match body {
            Some(_) => &[("Content-Type", "application/json")],
            None => &[],
        };
        let r = send(server.addr, method, path, headers, body.as_deref());
        (r.status, r.json_or_null())
    };
    let campaign = recording_campaign(call);
    let path = format!("/1.0/recording_campaigns/{campaign}/r1/audio");
    let old = audio_bytes(2 * CHUNK, 8);
    send(
        server.addr,
        "PUT",
        &path,
        &[("Content-Type", "audio/wav")],
        Some(&old),
    )
    .expect(201);
    assert_eq!(key_value.keys("audio/").len(), 2);

    // Half of a 6 MiB replacement, then wait until its first chunks are in the store.
    let mut upload = connect(server.addr);
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: audio/wav\r\nContent-Length: {}\r\n\r\n",
        server.addr,
        6 * CHUNK
    );
    upload.write_all(head.as_bytes()).unwrap();
    upload.write_all(&audio_bytes(3 * CHUNK, 9)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while key_value.keys("audio/").len() < 4 {
        assert!(Instant::now() < deadline, "the new chunks never appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    drop(upload);
    assert!(
        key_value.keys("audio/").len() >= 4,
        "the crash left chunks behind"
    );

    let server = start_process(&db, &key_value);
    let r = send(server.addr, "GET", &path, &[], None);
    r.expect(200);
    assert!(r.body == old, "the old audio is whole");
    let etag = format!("\"{}\"", sha256(&old));
    assert_eq!(r.header("etag"), Some(etag.as_str()));

    // The next upload of that recording's audio clears what the crash left.
    let new = audio_bytes(100, 10);
    send(
        server.addr,
        "PUT",
        &path,
        &[("Content-Type", "audio/wav")],
        Some(&new),
    )
    .expect(200);
    assert_eq!(generations(&key_value.keys("audio/")), vec![1]);
    assert!(send(server.addr, "GET", &path, &[], None).body == new);
}
