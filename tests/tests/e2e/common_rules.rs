//! API.md, "Common rules", on every family's collection.

use crate::support::Server;
use serde_json::json;

/// Each family's collection, and a body its POST accepts.
pub const COLLECTIONS: &[(&str, &str)] = &[
    ("/1.0/users/", r#"{"firstname": "a"}"#),
    ("/1.0/voicemails/", r#"{"mailbox": "100"}"#),
    ("/1.0/CallCenter/agents/", r#"{"number": "100"}"#),
    ("/1.0/CallCenter/queues/", r#"{"name": "q100"}"#),
    (
        "/1.0/recording_campaigns/",
        r#"{"campaign_name": "c", "activated": true, "base_filename": "f"}"#,
    ),
];

const JSON: (&str, &str) = ("Content-Type", "application/json");

/// How many items a collection holds, whatever its list's shape.
fn count(s: &Server, path: &str) -> usize {
    let list = s.get(path).json();
    match list.get("items") {
        Some(items) => items.as_array().unwrap().len(),
        None => list.as_array().unwrap().len(),
    }
}

#[test]
fn unknown_keys_and_wrong_types_on_every_family() {
    let s = Server::start();
    for (path, body) in COLLECTIONS {
        let mut body: serde_json::Value = serde_json::from_str(body).unwrap();
        body["no_such_key"] = json!(1);
        body["id"] = json!("read-only, ignored");
        s.post(path, &body)
            .expect_error(400, &["Incorrect parameters sent: no_such_key"]);
        assert_eq!(count(&s, path), 0);
    }
}

#[test]
fn unknown_list_parameters_on_every_family() {
    let s = Server::start();
    for (path, _) in COLLECTIONS {
        s.get(&format!("{path}?_page=1&_pagesize=1&bogus=1"))
            .expect_error(400, &["Incorrect parameters sent: bogus"]);
    }
}

#[test]
fn unsupported_media_type_for_bodies() {
    let s = Server::start();
    for (path, body) in COLLECTIONS {
        for headers in [
            vec![],
            vec![("Content-Type", "text/plain")],
            vec![("Content-Type", "application/x-www-form-urlencoded")],
            vec![("Content-Type", "application/jsonp")],
        ] {
            s.send("POST", path, &headers, Some(body.as_bytes()))
                .expect_empty(415);
        }
        // Parameters and case do not matter.
        s.send(
            "POST",
            path,
            &[("Content-Type", "Application/JSON; charset=UTF-8")],
            Some(body.as_bytes()),
        )
        .expect(201);
    }
}

#[test]
fn not_acceptable() {
    let s = Server::start();
    for (path, _) in COLLECTIONS {
        for accept in ["text/html", "text/html, */*", "application/xml", "text/*"] {
            s.send("GET", path, &[("Accept", accept)], None)
                .expect_empty(406);
        }
        for accept in [
            "application/json",
            "*/*",
            "application/*",
            "text/html, application/json;q=0.5",
            "",
        ] {
            s.send("GET", path, &[("Accept", accept)], None).expect(200);
        }
        s.send("GET", path, &[], None).expect(200);
    }
}

#[test]
fn unsupported_media_type_comes_before_not_acceptable() {
    let s = Server::start();
    for (path, body) in COLLECTIONS {
        s.send(
            "POST",
            path,
            &[("Content-Type", "text/plain"), ("Accept", "text/html")],
            Some(body.as_bytes()),
        )
        .expect_empty(415);
        s.send(
            "POST",
            path,
            &[JSON, ("Accept", "text/html")],
            Some(body.as_bytes()),
        )
        .expect_empty(406);
    }
}

#[test]
fn unparsable_bodies() {
    let s = Server::start();
    for (path, _) in COLLECTIONS {
        for body in [
            &b""[..],
            b"{",
            b"not json",
            b"[1, 2]",
            b"\"text\"",
            b"17",
            b"null",
            b"{\"a\": \"\xff\xfe\"}",
            b"\xff\xfe",
        ] {
            s.send("POST", path, &[JSON], Some(body))
                .expect_error(400, &["No parsable data in the request"]);
        }
        assert_eq!(count(&s, path), 0, "{path}: nothing written");
    }
}

/// A body cut short (the client announces more than it sends, then stops sending) is not
/// taken for the part that came, though that part is a valid body: the request is refused
/// as unparsable, if an answer reaches the client at all, and nothing is written.
#[test]
fn a_body_cut_short_writes_nothing() {
    use std::io::{Read, Write};
    let s = Server::start();
    for (path, body) in COLLECTIONS {
        let sent = body.as_bytes();
        let mut stream = crate::client::connect(s.addr);
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            s.addr,
            sent.len() + 100
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(sent).unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 400"),
            "{path}: {answer}"
        );
        assert_eq!(count(&s, path), 0, "{path}: nothing written");
    }
}

#[test]
fn a_body_over_one_mebibyte_is_refused_and_the_server_keeps_serving() {
    let s = Server::start();
    for (path, _) in COLLECTIONS {
        let big = json!({"description": "x".repeat(3 * 1024 * 1024)});
        let body = serde_json::to_vec(&big).unwrap();
        s.send("POST", path, &[JSON], Some(&body)).expect_empty(413);
        s.get(path).expect(200);
        assert_eq!(count(&s, path), 0);
    }
}

/// Create one item of a collection; its path.
fn item(s: &Server, collection: &str, body: &str) -> String {
    let r = s.send("POST", collection, &[JSON], Some(body.as_bytes()));
    r.expect(201);
    let created = r.json();
    let id = created.get("id").cloned().unwrap_or(created);
    format!("{collection}{id}")
}

#[test]
fn updates_follow_the_same_body_rules() {
    let s = Server::start();
    for (collection, body) in COLLECTIONS {
        let path = item(&s, collection, body);
        let before = s.get(&path).json();
        s.send("PUT", &path, &[], Some(b"{}")).expect_empty(415);
        s.send("PUT", &path, &[("Content-Type", "text/plain")], Some(b"{}"))
            .expect_empty(415);
        s.send("PUT", &path, &[JSON, ("Accept", "text/html")], Some(b"{}"))
            .expect_empty(406);
        for bad in [&b""[..], b"{", b"[]", b"\xff"] {
            s.send("PUT", &path, &[JSON], Some(bad))
                .expect_error(400, &["No parsable data in the request"]);
        }
        let big = serde_json::to_vec(&json!({"x": "y".repeat(2 * 1024 * 1024)})).unwrap();
        s.send("PUT", &path, &[JSON], Some(&big)).expect_empty(413);
        s.put(&path, &json!({"no_such_key": 1}))
            .expect_error(400, &["Incorrect parameters sent: no_such_key"]);
        assert_eq!(s.get(&path).json(), before, "{path}: unchanged");
    }
}

#[test]
fn a_delete_with_a_body_over_one_mebibyte_deletes_nothing() {
    let s = Server::start();
    for (collection, body) in COLLECTIONS {
        let path = item(&s, collection, body);
        let big = vec![b'x'; 3 * 1024 * 1024];
        s.send("DELETE", &path, &[], Some(&big)).expect_empty(413);
        s.get(&path).expect(200);
        s.delete(&path).expect(200);
    }
}

/// The route is chosen first, as Flask did in 2013: a method that the path does not take is
/// 405 with `Allow`, whatever the request's content type or `Accept`; a path that no route
/// takes is 404 the same way. (Found by schemathesis: these were 415 or 406.)
#[test]
fn a_method_the_path_does_not_take_is_405_before_any_other_rule() {
    let s = Server::start();
    for (path, allow) in [
        ("/1.0/users/", "GET, POST"),
        ("/1.0/voicemails/1", "GET, PUT, DELETE"),
        ("/1.0/recording_campaigns/1/search", "GET, DELETE"),
        ("/1.0/recording_campaigns/1/c1", "GET, DELETE"),
    ] {
        let method = if allow.contains("PUT") {
            "PATCH"
        } else {
            "PUT"
        };
        for headers in [
            &[][..],
            &[("Content-Type", "text/plain"), ("Accept", "text/html")],
        ] {
            let r = s.send(method, path, headers, None);
            r.expect_empty(405);
            assert_eq!(r.header("allow"), Some(allow), "{method} {path}");
        }
    }
    s.send("PUT", "/1.0/users/abc", &[], None).expect_empty(404);
    // A method the path takes: the content type is checked first, as API.md says.
    s.send("PUT", "/1.0/users/1", &[], None).expect_empty(415);
}

#[test]
fn unknown_paths_are_404() {
    let s = Server::start();
    // `/` is the console's page (console.rs).
    for path in [
        "/1.0",
        "/1.0/",
        "/1.0/nothing",
        "/2.0/users/",
        "/1.0/usersX",
    ] {
        s.get(path).expect_empty(404);
    }
}
