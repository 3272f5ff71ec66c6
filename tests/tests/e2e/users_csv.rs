//! Users in and out as CSV (issue 26): `POST /1.0/users/import`, `GET /1.0/users/export`
//! (`components/users/src/import.rs`, `export.rs`).

use crate::support::Server;
use serde_json::{json, Value};

fn import(s: &Server, csv: &str) -> crate::client::Response {
    s.send(
        "POST",
        "/1.0/users/import",
        &[("Content-Type", "text/csv; charset=utf-8")],
        Some(csv.as_bytes()),
    )
}

fn export(s: &Server) -> String {
    let r = s.send("GET", "/1.0/users/export", &[("Accept", "text/csv")], None);
    r.expect(200);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    r.text()
}

fn total(s: &Server, path: &str) -> i64 {
    s.get(path).json()["total"].as_i64().unwrap()
}

#[test]
fn an_import_is_all_or_nothing_and_names_every_bad_row() {
    let s = Server::start();
    s.post("/1.0/voicemails/", &json!({"mailbox": "7000"}))
        .expect(201);
    let bad = "firstname,lastname,enableclient,line_number,voicemail_mailbox,voicemail_attach\r\n\
               Jean,Dupont,1,44500,8000,\r\n\
               Anne,Martin,maybe,,,yes\r\n\
               Luc,Petit,0,,7000,\r\n\
               Paul,\"Roux\",,,8000,\r\n\
               Zoé,Blanc,,44501\r\n";
    import(&s, bad).expect_error(
        400,
        &[
            "row 3: Incorrect parameters sent: enableclient",
            "row 3: Incorrect parameters sent: voicemail_attach",
            "row 4: Incorrect parameters sent: voicemail_mailbox",
            "row 5: Incorrect parameters sent: voicemail_mailbox",
            "row 6: 4 cells where the header names 6",
        ],
    );
    assert_eq!(total(&s, "/1.0/users/"), 0);
    assert_eq!(total(&s, "/1.0/voicemails/"), 1);

    import(&s, "firstname,nickname,password\r\nJean,JD,x\r\n")
        .expect_error(400, &["row 1: Incorrect parameters sent: nickname"]);
    import(&s, "\nfirstname,lastname,firstname\nJean,Dupont,Paul\n")
        .expect_error(400, &["row 2: Incorrect parameters sent: firstname"]);
    // Rows as a spreadsheet numbers them: an empty line is a row; a line break inside quotes
    // is not.
    import(
        &s,
        "firstname,enableclient\n\n\"Jean\nPaul\",x\nLuc,1\n\nAnne,y\n",
    )
    .expect_error(
        400,
        &[
            "row 3: Incorrect parameters sent: enableclient",
            "row 6: Incorrect parameters sent: enableclient",
        ],
    );
    import(&s, "firstname\r\n\"Jean\"x\r\n").expect_error(400, &["line 2: a misplaced quote"]);
    import(&s, "").expect_error(400, &["row 1: no header"]);
    s.send(
        "POST",
        "/1.0/users/import",
        &[("Content-Type", "application/json")],
        Some(b"[]"),
    )
    .expect(415);
    // A file's bytes as generated clients send them are read as CSV.
    let r = s.send(
        "POST",
        "/1.0/users/import",
        &[("Content-Type", "application/octet-stream")],
        Some(b"firstname,lastname\r\nIrene,Joliot\r\n"),
    );
    r.expect(201);
    let id = r.json()[0].as_i64().unwrap();
    assert_eq!(
        s.get(&format!("/1.0/users/{id}")).json()["lastname"],
        "Joliot"
    );
    s.delete(&format!("/1.0/users/{id}")).expect(200);
    s.send("PUT", "/1.0/users/import", &[], None).expect(405);
    let too_many = format!("firstname\n{}", "x\n".repeat(10_001));
    import(&s, &too_many).expect(413);
    // Reading stops at the limits: a row of a million cells never sits in memory.
    import(&s, &format!("firstname\n{}", ",".repeat(1_000_000))).expect(413);
    // Past 8 MiB, whatever it holds.
    let heavy = format!("description\n{}\n", "x".repeat(8 * 1024 * 1024));
    import(&s, &heavy).expect(413);
    assert_eq!(total(&s, "/1.0/users/"), 0);

    // Rows of empty cells, as spreadsheets save them at the end, are no users.
    let good = "firstname,lastname,line_number,voicemail_mailbox,voicemail_email,enableclient\n\
                Jean,Dupont,44500,8000,jean@example.com,true\n\
                Zoé,\"Blanc, née Roux\",,,,\n\
                ,,,,,\n,,,,,\n";
    let r = import(&s, good);
    r.expect(201);
    let ids: Vec<i64> = serde_json::from_value(r.json()).unwrap();
    assert_eq!(ids.len(), 2);
    assert!(ids[0] < ids[1]);
    let jean = s.get(&format!("/1.0/users/{}", ids[0])).json();
    assert_eq!(
        (&jean["firstname"], &jean["line"], &jean["enableclient"]),
        (&json!("Jean"), &json!({"number": "44500"}), &json!(true))
    );
    let voicemail = s
        .get(&format!("/1.0/voicemails/{}", jean["voicemailid"]))
        .json();
    assert_eq!(
        (
            &voicemail["mailbox"],
            &voicemail["fullname"],
            &voicemail["email"]
        ),
        (
            &json!("8000"),
            &json!("Jean Dupont"),
            &json!("jean@example.com")
        )
    );
    let zoe = s.get(&format!("/1.0/users/{}", ids[1])).json();
    assert_eq!(
        (&zoe["lastname"], &zoe["voicemailid"]),
        (&json!("Blanc, née Roux"), &Value::Null)
    );
    // Imported users are searched like any other.
    let found = s.get("/1.0/users/?search=jean%40example").json();
    assert_eq!(found["items"][0]["id"], json!(ids[0]));
}

/// A directory with what spreadsheets make hard: quotes, commas, line breaks, accents, empty
/// cells, voicemails and lines on some users only.
fn directory(n: usize) -> String {
    let mut csv = String::from(
        "firstname,lastname,callerid,username,password,enableclient,mobilephonenumber,\
         description,ctiprofileid,line_number,voicemail_mailbox,voicemail_fullname,\
         voicemail_password,voicemail_email,voicemail_attach\n",
    );
    for i in 0..n {
        let line = if i % 2 == 0 {
            format!("{}", 10_000 + i)
        } else {
            String::new()
        };
        let voicemail = if i % 3 == 0 {
            format!(
                "{},\"Boîte {i}\",{},u{i}@example.com,{}",
                50_000 + i,
                i % 10_000,
                i % 2
            )
        } else {
            ",,,,".to_string()
        };
        csv.push_str(&format!(
            "Prénom{i},\"Nom, \"\"{i}\"\"\",\"\"\"Nom {i}\"\" <{i}>\",user{i},s{i},{},06{i:08},\
             \"line one\nline two {i}\",{},{line},{voicemail}\n",
            i % 2,
            if i % 5 == 0 {
                String::new()
            } else {
                (i % 7).to_string()
            },
        ));
    }
    csv
}

#[test]
fn an_export_imports_into_an_empty_database_as_the_same_users() {
    let s = Server::start();
    let r = import(&s, &directory(1000));
    r.expect(201);
    assert_eq!(r.json().as_array().unwrap().len(), 1000);
    // A user made through the API is exported too.
    s.post(
        "/1.0/users/",
        &json!({"firstname": "API", "userfield": "x,y"}),
    )
    .expect(201);
    let exported = export(&s);
    assert_eq!(exported.lines().next().unwrap().split(',').count(), 23);

    let other = Server::start();
    let r = import(&other, &exported);
    r.expect(201);
    assert_eq!(r.json().as_array().unwrap().len(), 1001);
    assert_eq!(export(&other), exported);
    let shown = |s: &Server| -> Vec<Value> {
        let mut users = s.get("/1.0/users/").json()["items"]
            .as_array()
            .unwrap()
            .clone();
        for user in &mut users {
            let user = user.as_object_mut().unwrap();
            user.remove("id");
            // The voicemail is the same, under the id the new database gave it.
            let voicemail = user.remove("voicemailid").unwrap();
            if let Some(id) = voicemail.as_i64() {
                let mut shown = s.get(&format!("/1.0/voicemails/{id}")).json();
                shown.as_object_mut().unwrap().remove("id");
                user.insert("voicemail".into(), shown);
            }
        }
        users
    };
    assert_eq!(shown(&other), shown(&s));

    s.send(
        "GET",
        "/1.0/users/export",
        &[("Accept", "application/json")],
        None,
    )
    .expect(406);
    // What a browser sends following the console's link.
    let link = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let r = s.send("GET", "/1.0/users/export", &[("Accept", link)], None);
    r.expect(200);
    assert_eq!(r.text(), exported);
}
